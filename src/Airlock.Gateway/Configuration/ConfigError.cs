namespace Airlock.Gateway.Configuration;

/// <summary>
/// One problem found in a configuration file, with where it is, so that an operator can fix
/// every error in one pass instead of one per restart.
/// </summary>
internal sealed record ConfigError(string File, int Line, int Column, string Path, string Message)
{
    public override string ToString() =>
        Line > 0
            ? $"{File}:{Line}:{Column}: {(Path.Length > 0 ? Path + ": " : "")}{Message}"
            : $"{File}: {(Path.Length > 0 ? Path + ": " : "")}{Message}";
}
