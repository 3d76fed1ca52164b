using CsCheck;

namespace Airlock.Gateway.Tests.Properties;

/// <summary>
/// Runs a CsCheck property the same way on every machine: first the seeds that once failed
/// (<c>property-seeds.txt</c>, replayed forever), then <c>iter</c> cases from seeds fixed by the
/// property's name and the case number, so a red CI run is red again locally. A failure names
/// its seed and CsCheck then shrinks from it. Two environment variables change the run (see
/// docs/testing.md): <c>CsCheck_Seed</c> replays one seed, <c>AIRLOCK_PROPERTY_SEARCH</c>
/// (seconds) runs CsCheck's own random search on all cores instead of the fixed cases.
/// </summary>
internal static class PropertyRun
{
    private const string SeedsFile = "property-seeds.txt";

    private static readonly Lazy<ILookup<string, string>> Regressions = new(LoadRegressions);

    public static void Check<T>(this Gen<T> gen, Action<T> assert, long iter, Func<T, string>? print = null,
        [System.Runtime.CompilerServices.CallerMemberName] string property = "")
    {
        if (Environment.GetEnvironmentVariable("CsCheck_Seed") is { Length: > 0 } replay)
        {
            gen.Sample(assert, seed: replay, iter: 1, threads: 1, print: print);
            return;
        }

        if (int.TryParse(Environment.GetEnvironmentVariable("AIRLOCK_PROPERTY_SEARCH"), out var seconds) && seconds > 0)
        {
            // CsCheck's random search: a failure is shrunk and reported as CsCheck_Seed=…
            gen.Sample(assert, time: seconds, print: print);
            return;
        }

        foreach (var seed in Regressions.Value[property])
        {
            Run(gen, assert, seed, property, print, "regression seed");
        }

        var stream = (uint)StableHash(property);
        for (var n = 0L; n < iter; n++)
        {
            var seed = new PCG(stream, (ulong)n * 0x9E3779B97F4A7C15UL + 1).ToString();
            Run(gen, assert, seed, property, print, $"fixed case {n}");
        }
    }

    public static void Check<T1, T2>(this Gen<(T1, T2)> gen, Action<T1, T2> assert, long iter,
        Func<(T1, T2), string>? print = null, [System.Runtime.CompilerServices.CallerMemberName] string property = "") =>
        gen.Check(t => assert(t.Item1, t.Item2), iter, print, property);

    public static void Check<T1, T2, T3>(this Gen<(T1, T2, T3)> gen, Action<T1, T2, T3> assert, long iter,
        Func<(T1, T2, T3), string>? print = null, [System.Runtime.CompilerServices.CallerMemberName] string property = "") =>
        gen.Check(t => assert(t.Item1, t.Item2, t.Item3), iter, print, property);

    public static void Check<T1, T2, T3, T4>(this Gen<(T1, T2, T3, T4)> gen, Action<T1, T2, T3, T4> assert, long iter,
        Func<(T1, T2, T3, T4), string>? print = null, [System.Runtime.CompilerServices.CallerMemberName] string property = "") =>
        gen.Check(t => assert(t.Item1, t.Item2, t.Item3, t.Item4), iter, print, property);

    public static void Check<T1, T2, T3, T4, T5>(this Gen<(T1, T2, T3, T4, T5)> gen, Action<T1, T2, T3, T4, T5> assert, long iter,
        Func<(T1, T2, T3, T4, T5), string>? print = null, [System.Runtime.CompilerServices.CallerMemberName] string property = "") =>
        gen.Check(t => assert(t.Item1, t.Item2, t.Item3, t.Item4, t.Item5), iter, print, property);

    private static void Run<T>(Gen<T> gen, Action<T> assert, string seed, string property, Func<T, string>? print, string which)
    {
        var value = gen.Generate(PCG.Parse(seed), null, out _);
        try
        {
            assert(value);
        }
        catch (Exception failure)
        {
            // Let CsCheck shrink from the failing seed; whatever it reports, the seed that failed
            // here is what goes into property-seeds.txt.
            string shrunk;
            try
            {
                gen.Sample(assert, seed: seed, iter: 1, threads: 1, print: print);
                shrunk = "(CsCheck could not make it fail again)";
            }
            catch (Exception reported)
            {
                shrunk = reported.Message;
            }

            throw new PropertyFailedException(
                $"{property} failed on {which}, seed {seed}. Replay with CsCheck_Seed={seed}; keep it by adding \"{property} {seed}\" to tests/Airlock.Gateway.Tests/Properties/{SeedsFile}.\n"
                + $"input: {(print is null ? CsCheck.Check.Print(value) : print(value))}\n{shrunk}", failure);
        }
    }

    /// <summary>FNV-1a: string.GetHashCode differs from run to run.</summary>
    private static int StableHash(string text)
    {
        var hash = 2166136261u;
        foreach (var c in text)
        {
            hash = (hash ^ c) * 16777619u;
        }

        return (int)hash;
    }

    private static ILookup<string, string> LoadRegressions()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Properties", SeedsFile);
        return File.ReadLines(path)
            .Select(line => line.Split('#', 2)[0].Trim())
            .Where(line => line.Length > 0)
            .Select(line => line.Split(' ', 2, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .ToLookup(parts => parts[0], parts => parts[1], StringComparer.Ordinal);
    }
}

/// <summary>A property failed on a fixed or regression seed; the message says how to replay it.</summary>
public sealed class PropertyFailedException(string message, Exception inner) : Exception(message, inner);
