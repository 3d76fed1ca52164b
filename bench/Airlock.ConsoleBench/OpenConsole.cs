using System.Diagnostics;
using System.Net;

namespace Airlock.Benchmarks.Console;

/// <summary>
/// One open inbox page, as console.js keeps it: it holds <c>GET /events</c> open and, on
/// <c>hello</c> or <c>changed</c> (after the script's 50 ms debounce), fetches the inbox fragment.
/// </summary>
internal sealed class OpenConsole : IAsyncDisposable
{
    private static readonly TimeSpan Debounce = TimeSpan.FromMilliseconds(50);

    private readonly Person _person;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _reading;
    private int _queued;
    private int _fetched;
    private int _inFlight;

    private OpenConsole(Person person, HttpResponseMessage stream, Recorder fetches)
    {
        _person = person;
        _reading = ReadAsync(stream, fetches);
    }

    /// <summary>Whether a refresh is waiting or on its way.</summary>
    public bool Refreshing => Volatile.Read(ref _queued) == 1 || Volatile.Read(ref _inFlight) == 1;

    /// <summary>Fragments fetched so far (the first one follows <c>hello</c>).</summary>
    public int Fetched => Volatile.Read(ref _fetched);

    public static async Task<OpenConsole> OpenAsync(Person person, Recorder fetches)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/events");
        request.Headers.Accept.ParseAdd("text/event-stream");
        var response = await person.Streams.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw new InvalidOperationException($"GET /events: {(int)response.StatusCode}");
        }

        return new OpenConsole(person, response, fetches);
    }

    private async Task ReadAsync(HttpResponseMessage response, Recorder fetches)
    {
        using (response)
        {
            try
            {
                using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(_stop.Token));
                string? line;
                while ((line = await reader.ReadLineAsync(_stop.Token)) is not null)
                {
                    if (line is "event: hello" or "event: changed" && Interlocked.Exchange(ref _queued, 1) == 0)
                    {
                        _ = RefreshAsync(fetches);
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }
            catch (IOException) when (_stop.IsCancellationRequested)
            {
            }
        }
    }

    private async Task RefreshAsync(Recorder fetches)
    {
        try
        {
            await Task.Delay(Debounce, _stop.Token);
            Volatile.Write(ref _inFlight, 1);
            Volatile.Write(ref _queued, 0);
            var started = Stopwatch.GetTimestamp();
            using var response = await _person.Pages.GetAsync("/fragments/inbox", _stop.Token);
            await response.Content.ReadAsStringAsync(_stop.Token);
            response.EnsureSuccessStatusCode();
            fetches.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            Interlocked.Increment(ref _fetched);
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            Volatile.Write(ref _inFlight, 0);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _reading;
        _stop.Dispose();
    }
}

/// <summary>Durations in milliseconds, from many threads; the numbers a row of the results needs.</summary>
internal sealed class Recorder
{
    private readonly List<double> _values = [];

    public int Count
    {
        get
        {
            lock (_values)
            {
                return _values.Count;
            }
        }
    }

    public void Add(double milliseconds)
    {
        lock (_values)
        {
            _values.Add(milliseconds);
        }
    }

    public void Clear()
    {
        lock (_values)
        {
            _values.Clear();
        }
    }

    public (int Count, double Median, double P99, double Max) Summary()
    {
        lock (_values)
        {
            if (_values.Count == 0)
            {
                return (0, double.NaN, double.NaN, double.NaN);
            }

            var sorted = _values.Order().ToList();
            return (sorted.Count, Percentile(sorted, 0.50), Percentile(sorted, 0.99), sorted[^1]);
        }
    }

    private static double Percentile(List<double> sorted, double p) => sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];
}
