using YamlDotNet.RepresentationModel;

namespace Airlock.Gateway.Configuration;

/// <summary>
/// Resolves secret references, <c>{ env: NAME }</c> or <c>{ file: path }</c>, into
/// <see cref="Secret"/>s. A secret written inline is an error: configuration files end up in
/// repositories, tickets and backups. Errors name the reference, never a value.
/// </summary>
internal sealed class SecretResolver(YamlConfigReader reader, string baseDirectory, Func<string, string?> environment, bool resolve = true)
{
    /// <param name="multiline">True for a secret that is a document, not a header value (a
    /// PEM key): line breaks are then part of it.</param>
    /// <param name="parent">Where a missing secret is reported: the mapping that should hold it
    /// (without it, the error has no line to point at).</param>
    public Secret? Resolve(YamlNode? node, string path, bool multiline = false, YamlNode? parent = null)
    {
        if (node is null)
        {
            reader.Error(parent, path, "is required; give it by reference: { env: NAME } or { file: path }");
            return null;
        }

        if (node is YamlScalarNode)
        {
            // Do not echo the value back: it is probably the secret itself.
            reader.Error(node, path, "secrets cannot be written inline; give it by reference: { env: NAME } or { file: path }");
            return null;
        }

        var map = reader.Mapping(node, path);
        if (map is null)
        {
            return null;
        }

        reader.OnlyKeys(map, path, "env", "file");
        var env = reader.String(map, "env", path, required: false);
        var file = reader.String(map, "file", path, required: false);
        if ((env is null) == (file is null))
        {
            reader.Error(map, path, "give exactly one of env or file");
            return null;
        }

        if (!resolve)
        {
            // Checking a configuration's shape only: the reference is valid, the value unread.
            return Secret.Unresolved(env is not null ? $"env:{env}" : $"file:{Path.GetFullPath(file!, baseDirectory)}");
        }

        if (env is not null)
        {
            var value = environment(env);
            if (string.IsNullOrEmpty(value))
            {
                reader.Error(map, YamlConfigReader.Join(path, "env"), $"environment variable {env} is not set or is empty");
                return null;
            }

            return Checked(map, path, new Secret($"env:{env}", value), multiline);
        }

        var fullPath = Path.GetFullPath(file!, baseDirectory);
        string text;
        try
        {
            text = File.ReadAllText(fullPath);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            reader.Error(map, YamlConfigReader.Join(path, "file"), $"cannot read secret file {fullPath}: {ex.GetType().Name}");
            return null;
        }

        // Files written by editors and by `echo` end with a newline that is not part of the secret.
        text = text.TrimEnd('\r', '\n');
        if (text.Length == 0)
        {
            reader.Error(map, YamlConfigReader.Join(path, "file"), $"secret file {fullPath} is empty");
            return null;
        }

        return Checked(map, path, new Secret($"file:{fullPath}", text), multiline);
    }

    /// <summary>A control character in a secret would split the header it is sent in.</summary>
    private Secret? Checked(YamlNode node, string path, Secret secret, bool multiline)
    {
        foreach (var c in secret.Reveal())
        {
            if (char.IsControl(c) && !(multiline && c is '\n' or '\r'))
            {
                reader.Error(node, path, $"the secret from {secret.Source} contains a control character (such as a line break)");
                return null;
            }
        }

        return secret;
    }
}
