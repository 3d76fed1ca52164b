namespace Airlock.Gateway.Configuration;

/// <summary>
/// A resolved secret value. It never prints itself: <see cref="ToString"/> names only where
/// the value came from, so a secret cannot leak through a log line, an exception message or
/// a debugger display by accident. Code that must send the value calls <see cref="Reveal"/>.
/// </summary>
public sealed class Secret
{
    private readonly string _value;

    public Secret(string source, string value)
    {
        ArgumentException.ThrowIfNullOrEmpty(value);
        Source = source;
        _value = value;
    }

    /// <summary>Where the value was read from, e.g. <c>env:BILLING_TOKEN</c>.</summary>
    public string Source { get; }

    public string Reveal() => _value;

    public override string ToString() => $"secret({Source})";
}
