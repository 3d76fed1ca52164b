using System.Text;
using Airlock.Gateway.Identity;
using Microsoft.AspNetCore.Http;

namespace Airlock.Gateway.Policy;

/// <summary>
/// What policy sees of a request: the caller, the connection, the method, the normalised path
/// and query, the headers, and the body once it has been read. The same facts are built by the
/// gateway for a live request and by <c>airlock policy test</c> and the explain API for a
/// described one.
/// </summary>
internal sealed class RequestFacts
{
    private Dictionary<string, List<string>>? _query;
    private Dictionary<string, List<string>>? _querySemicolons;

    public RequestFacts(CallerIdentity identity, string connection, string method, string path, string? query, IHeaderDictionary headers)
    {
        Identity = identity;
        Connection = connection;
        Method = method;
        Path = path;
        RawQuery = query;
        Headers = headers;
    }

    public CallerIdentity Identity { get; }

    public string Connection { get; }

    public string Method { get; }

    /// <summary>The normalised path, connection segment included: <c>/billing/v1/plans/42</c>.</summary>
    public string Path { get; }

    public string? RawQuery { get; }

    public IHeaderDictionary Headers { get; }

    /// <summary>The body, once read; null while it has not been needed.</summary>
    public InspectedBody? Body { get; set; }

    /// <summary>Query parameters, form-decoded (<c>+</c> is a space), parsed on first use.</summary>
    public IReadOnlyDictionary<string, List<string>> Query => _query ??= ParseQuery(RawQuery, ['&']);

    /// <summary>The query as servers that also split on ';' read it (Rack before 3, Python
    /// before 3.9.2, Go before 1.17).</summary>
    public IReadOnlyDictionary<string, List<string>> QueryWithSemicolons => _querySemicolons ??= ParseQuery(RawQuery, ['&', ';']);

    /// <summary>A form-encoded body's fields, read as the query is.</summary>
    internal static IReadOnlyDictionary<string, List<string>> ParseForm(string body) => ParseQuery(body, ['&']);

    private static Dictionary<string, List<string>> ParseQuery(string? raw, char[] separators)
    {
        var parameters = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        if (string.IsNullOrEmpty(raw))
        {
            return parameters;
        }

        foreach (var pair in raw.Split(separators))
        {
            if (pair.Length == 0)
            {
                continue;
            }

            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            var name = Decode(eq < 0 ? pair : pair[..eq]);
            var value = eq < 0 ? "" : Decode(pair[(eq + 1)..]);
            if (!parameters.TryGetValue(name, out var values))
            {
                parameters[name] = values = [];
            }

            values.Add(value);
        }

        return parameters;
    }

    // The normaliser has already checked every escape and that escaped bytes are UTF-8.
    private static string Decode(string component) =>
        Uri.UnescapeDataString(component.Replace('+', ' '));

    /// <summary>The body as text, for regular expressions over non-JSON content.</summary>
    public static string TextOf(ReadOnlySpan<byte> body) => Encoding.UTF8.GetString(body);
}
