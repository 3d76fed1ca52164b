using System.Collections.Immutable;

namespace Airlock.Gateway.Recording;

/// <summary>
/// The exchange as it is being recorded, set by <see cref="ExchangeRecorder.Begin"/> when the
/// request's connection records bodies; absent otherwise. The session's counting streams fill
/// the captures, and <see cref="ExchangeRecorder.From"/> turns them into the record.
/// </summary>
internal sealed class RecordingFeature(ImmutableArray<KeyValuePair<string, string>> requestHeaders, BodyCapture request, BodyCapture response)
{
    /// <summary>The request's headers as the agent sent them (credentials withheld).</summary>
    public ImmutableArray<KeyValuePair<string, string>> RequestHeaders { get; } = requestHeaders;

    /// <summary>The request's body as it passes.</summary>
    public BodyCapture Request { get; } = request;

    /// <summary>The response's body as the agent gets it.</summary>
    public BodyCapture Response { get; } = response;
}
