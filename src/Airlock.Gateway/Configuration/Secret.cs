namespace Airlock.Gateway.Configuration;

/// <summary>
/// A resolved secret value. It never prints itself: <see cref="ToString"/> names only where
/// the value came from, so a secret cannot leak through a log line, an exception message or
/// a debugger display by accident. Code that must send the value calls <see cref="Reveal"/>.
/// </summary>
internal sealed class Secret
{
    private readonly string _value;

    public Secret(string source, string value)
    {
        ArgumentException.ThrowIfNullOrEmpty(value);
        Source = source;
        _value = value;
        IsResolved = true;
    }

    private Secret(string source)
    {
        Source = source;
        _value = "";
    }

    /// <summary>A reference whose value was deliberately not read (checking a file's shape).</summary>
    public static Secret Unresolved(string source) => new(source);

    public bool IsResolved { get; }

    /// <summary>Where the value was read from, e.g. <c>env:BILLING_TOKEN</c>.</summary>
    public string Source { get; }

    public string Reveal() => IsResolved ? _value : throw new InvalidOperationException($"the secret {Source} was not resolved");

    public override string ToString() => $"secret({Source})";
}
