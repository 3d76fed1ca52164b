using System.Globalization;
using System.Text.Json;
using Polly;
using Polly.Retry;

namespace Airlock.Cli.Login;

/// <summary>
/// Where the profile lives and how it is kept: <c>$AIRLOCK_PROFILE</c>, else
/// <c>$XDG_CONFIG_HOME/airlock/profile.json</c>, else <c>~/.config/airlock/profile.json</c>.
/// The file is created readable by its owner only (0600) in a directory created 0700, written
/// whole to a temporary file and renamed over the old one, so a reader never sees half a
/// profile. Writers hold <c>profile.json.lock</c>: two commands refreshing at once would
/// otherwise both spend one refresh token, and providers that rotate refresh tokens revoke the
/// whole sign-in when one is used twice (OAuth 2.0 Security BCP, RFC 9700 §4.14.2).
/// </summary>
internal sealed class ProfileFile(string path)
{
    public const string PathVariable = "AIRLOCK_PROFILE";

    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode OwnerOnlyDirectory = OwnerOnly | UnixFileMode.UserExecute;
    private const UnixFileMode Others = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
        | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    // Another `airlock` command holds the lock only while it refreshes (one round trip to the
    // provider): wait for it rather than fail.
    private static readonly ResiliencePipeline LockRetry = new ResiliencePipelineBuilder()
        .AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<IOException>(),
            MaxRetryAttempts = 150,
            Delay = TimeSpan.FromMilliseconds(100),
            BackoffType = DelayBackoffType.Constant,
            UseJitter = true,
        })
        .Build();

    public string Path { get; } = path;

    public static ProfileFile FromEnvironment(Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        if (environment(PathVariable) is { Length: > 0 } explicitPath)
        {
            return new ProfileFile(System.IO.Path.GetFullPath(explicitPath));
        }

        // XDG Base Directory: a relative XDG_CONFIG_HOME is invalid and must be ignored.
        var config = environment("XDG_CONFIG_HOME") is { Length: > 0 } xdg && System.IO.Path.IsPathRooted(xdg)
            ? xdg
            : System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config");
        return new ProfileFile(System.IO.Path.Combine(config, "airlock", "profile.json"));
    }

    /// <summary>The saved profile, or null when there is none.</summary>
    /// <exception cref="ProfileException">The file exists but cannot be read or is not a profile.</exception>
    public Profile? Read(TextWriter warnings)
    {
        string text;
        try
        {
            text = File.ReadAllText(Path);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ProfileException($"cannot read the profile {Path}: {ex.Message}");
        }

        if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(Path) & Others) != 0)
        {
            warnings.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"warning: {Path} can be read by others (mode {Convert.ToString((int)File.GetUnixFileMode(Path), 8)}); its tokens act as you: run `chmod 600 {Path}`, or `airlock logout` and sign in again"));
        }

        try
        {
            return JsonSerializer.Deserialize(text, LoginJson.Default.Profile)
                ?? throw new ProfileException($"the profile {Path} is empty: run `airlock login` again");
        }
        catch (JsonException)
        {
            // The parser's message may quote the file, tokens included: never print it.
            throw new ProfileException($"the profile {Path} is not a profile `airlock login` wrote: run `airlock login` again");
        }
    }

    public void Write(Profile profile)
    {
        var directory = System.IO.Path.GetDirectoryName(Path)!;
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(directory);
        }
        else if (!Directory.Exists(directory))
        {
            Directory.CreateDirectory(directory, OwnerOnlyDirectory);
        }

        var temporary = System.IO.Path.Combine(directory, $".{System.IO.Path.GetFileName(Path)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temporary, CreateOptions(FileMode.CreateNew, FileAccess.Write)))
            {
                JsonSerializer.Serialize(stream, profile, LoginJson.Default.Profile);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, Path, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    /// <summary>Removes the profile (and its lock file); false when there was none.</summary>
    public bool Delete()
    {
        var existed = File.Exists(Path);
        File.Delete(Path);
        File.Delete(LockPath);
        return existed;
    }

    /// <summary>Holds the profile's lock until disposed, waiting up to about 15 s for another command to let go.</summary>
    public FileStream Lock()
    {
        var directory = System.IO.Path.GetDirectoryName(Path)!;
        if (!OperatingSystem.IsWindows() && !Directory.Exists(directory))
        {
            Directory.CreateDirectory(directory, OwnerOnlyDirectory);
        }

        // FileShare.None is an exclusive advisory lock (flock) on Unix, a share lock on Windows.
        return LockRetry.Execute(() => new FileStream(LockPath, CreateOptions(FileMode.OpenOrCreate, FileAccess.ReadWrite)));
    }

    private string LockPath => Path + ".lock";

    private static FileStreamOptions CreateOptions(FileMode mode, FileAccess access)
    {
        var options = new FileStreamOptions { Mode = mode, Access = access, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = OwnerOnly;
        }

        return options;
    }
}

/// <summary>The profile exists but cannot be used; the message says what to do.</summary>
internal sealed class ProfileException(string message) : Exception(message);
