namespace Airlock.Gateway.Normalization;

/// <summary>Why a request target was refused. Each reason is a form two servers could read
/// two ways, so the gateway refuses it rather than guess.</summary>
internal enum NormalizationError
{
    None = 0,

    /// <summary>Not origin-form (<c>/path?query</c>): absolute-form and <c>*</c> are refused.</summary>
    NotOriginForm,

    /// <summary>A '%' not followed by two hex digits.</summary>
    InvalidPercentEncoding,

    /// <summary><c>%2F</c> or <c>%5C</c>: a separator hidden from path parsing.</summary>
    EncodedSeparator,

    /// <summary>A raw backslash, which some servers read as '/'.</summary>
    Backslash,

    /// <summary>NUL, encoded or not.</summary>
    Nul,

    /// <summary>Another control character, encoded or not, a space, or a raw non-ASCII byte.</summary>
    InvalidCharacter,

    /// <summary>Percent-encoded bytes that are not valid UTF-8, overlong forms included.</summary>
    InvalidUtf8,

    /// <summary>A '..' that climbs out of the connection's segment or above the root.</summary>
    Traversal,

    /// <summary>A '#' in the target: fragments are never sent to a server.</summary>
    Fragment,

    /// <summary>A ';' in the path: Tomcat, Jetty and Spring strip ";params" from each segment
    /// before resolving dot segments, so <c>/x/..;/admin</c> climbs out there and not here.</summary>
    PathParameter,

    /// <summary><c>%25</c> followed by two hex digits: an upstream that decodes twice would read
    /// <c>%252e</c> as '.', which no rule here saw.</summary>
    DoubleEncoding,
}
