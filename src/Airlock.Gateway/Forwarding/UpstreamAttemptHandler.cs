using Airlock.Gateway.Sessions;
using Polly;
using Polly.Retry;

namespace Airlock.Gateway.Forwarding;

/// <summary>
/// Sends each upstream request as many times as the connection allows, and no more: once by
/// default. With <c>retries: N</c> on the connection, a request is sent again (at once, on a new
/// connection, up to N more times) only when it is idempotent (RFC 9110 §9.2.2: GET, HEAD,
/// OPTIONS, TRACE, PUT, DELETE), carries no body (a streamed body cannot be sent twice), and
/// nothing of an answer came back: the upstream could not be reached, or closed or reset the
/// connection before its first byte. Every attempt's outcome goes on the session
/// (<see cref="SessionFeature.UpstreamAttempts"/>).
/// <para>
/// An approved held request (its session has a review) is never sent again, whatever its method:
/// a person approved one execution (PRODUCT.md: exactly once), and an upstream that closed
/// without answering may have acted on it. Such an execution ends <c>execution-unknown</c>.
/// </para>
/// <para>
/// .NET's own silent resend of such requests is turned off underneath, by
/// <see cref="UpstreamConnectionStream"/>: this handler is the only one that sends a request again.
/// </para>
/// </summary>
internal sealed class UpstreamAttemptHandler : DelegatingHandler
{
    /// <summary>The session a request belongs to, set on the request by the transformer.</summary>
    public static readonly HttpRequestOptionsKey<SessionFeature> Session = new("airlock.session");

    private readonly ResiliencePipeline<HttpResponseMessage>? _retry;

    public UpstreamAttemptHandler(HttpMessageHandler inner, int retries)
        : base(inner)
    {
        if (retries > 0)
        {
            _retry = new ResiliencePipelineBuilder<HttpResponseMessage>()
                .AddRetry(new RetryStrategyOptions<HttpResponseMessage>
                {
                    MaxRetryAttempts = retries,
                    Delay = TimeSpan.Zero,
                    ShouldHandle = static args => ValueTask.FromResult(args.Outcome.Exception is { } e
                        && (UpstreamFailure.ClosedWithoutAnswer(e) || UpstreamFailure.NeverConnected(e))),
                })
                .Build();
        }
    }

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        request.Options.TryGetValue(Session, out var session);
        if (_retry is null || !Repeatable(request, session))
        {
            return AttemptAsync(request, session, cancellationToken);
        }

        return _retry.ExecuteAsync(
            static (state, token) => new ValueTask<HttpResponseMessage>(state.Handler.AttemptAsync(state.Request, state.Session, token)),
            (Handler: this, Request: request, Session: session), cancellationToken).AsTask();
    }

    private async Task<HttpResponseMessage> AttemptAsync(HttpRequestMessage request, SessionFeature? session, CancellationToken cancellationToken)
    {
        // Each attempt is its own exchange on whatever connection it gets; the flow it is set on
        // writes the request's head and body.
        UpstreamConnectionStream.CurrentExchange.Value = new UpstreamConnectionStream.Exchange();
        try
        {
            var response = await base.SendAsync(request, cancellationToken);
            session?.AddUpstreamAttempt(UpstreamFailure.Answered);
            return response;
        }
        catch (Exception ex)
        {
            session?.AddUpstreamAttempt(UpstreamFailure.OutcomeOf(ex));
            throw;
        }
    }

    /// <summary>Whether a request may be sent again: an idempotent one without a body, that is
    /// not the execution of an approved review. Without its session, it is not known, so not.</summary>
    private static bool Repeatable(HttpRequestMessage request, SessionFeature? session)
    {
        var method = request.Method;
        return session is { ReviewId: null }
            && request.Content is null
            && (method == HttpMethod.Get || method == HttpMethod.Head || method == HttpMethod.Options || method == HttpMethod.Trace
                || method == HttpMethod.Put || method == HttpMethod.Delete);
    }
}
