using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Airlock.Gateway.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;

namespace Airlock.Gateway.Reviews.Webhooks;

/// <summary>
/// Delivers review events to the configured webhooks, off the request path. A delivery that
/// fails is retried with exponential back-off (Polly); one that still fails is logged and
/// dropped. A webhook never blocks or loses a review: the review is stored before it is announced,
/// and announcing never waits on a receiver.
/// <para>
/// <c>json</c> deliveries are signed: <c>Airlock-Webhook-Signature: v1=hex(HMAC-SHA256(secret,
/// timestamp + "." + body))</c>, with <c>Airlock-Webhook-Timestamp</c> (Unix seconds) and
/// <c>Airlock-Webhook-Id</c> (one per delivery, the same across retries).
/// </para>
/// </summary>
internal sealed partial class WebhookNotifier : BackgroundService
{
    public const int QueueCapacity = 10_000;

    private readonly AirlockConfig _config;
    private readonly IHttpClientFactory _clients;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger<WebhookNotifier> _logger;
    private readonly ResiliencePipeline<HttpResponseMessage> _retry;
    private readonly Channel<(WebhookConfig Hook, ReviewEvent Event)> _queue =
        Channel.CreateBounded<(WebhookConfig, ReviewEvent)>(new BoundedChannelOptions(QueueCapacity) { FullMode = BoundedChannelFullMode.DropWrite });

    public WebhookNotifier(AirlockConfig config, IHttpClientFactory clients, TimeProvider timeProvider, ILogger<WebhookNotifier> logger)
    {
        _config = config;
        _clients = clients;
        _timeProvider = timeProvider;
        _logger = logger;
        _retry = new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = timeProvider }
            .AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = 5,
                Delay = TimeSpan.FromSeconds(1),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                ShouldHandle = new PredicateBuilder<HttpResponseMessage>()
                    .Handle<HttpRequestException>()
                    .Handle<TaskCanceledException>()
                    .HandleResult(r => (int)r.StatusCode >= 500 || (int)r.StatusCode == 429),
            })
            .Build();
    }

    /// <summary>The name of the HTTP client deliveries use.</summary>
    public const string HttpClientName = "airlock-webhooks";

    /// <summary>Queues the event for every webhook that wants it; never waits.</summary>
    public void Publish(ReviewEvent reviewEvent)
    {
        foreach (var hook in _config.Reviews.Webhooks)
        {
            if (hook.Events.Contains(reviewEvent.Event) && !_queue.Writer.TryWrite((hook, reviewEvent)))
            {
                Log.QueueFull(_logger, hook.Name, reviewEvent.Event, reviewEvent.Review.Id);
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Deliveries run side by side, so one slow receiver does not hold up the others.
        var inFlight = new List<Task>();
        try
        {
            await foreach (var (hook, reviewEvent) in _queue.Reader.ReadAllAsync(stoppingToken))
            {
                inFlight.RemoveAll(t => t.IsCompleted);
                inFlight.Add(DeliverAsync(hook, reviewEvent, stoppingToken));
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down: deliveries under way are cancelled with the same token.
        }

        await Task.WhenAll(inFlight);
    }

    private async Task DeliverAsync(WebhookConfig hook, ReviewEvent reviewEvent, CancellationToken cancellationToken)
    {
        var body = Render(hook, reviewEvent);
        var deliveryId = Guid.CreateVersion7(_timeProvider.GetUtcNow()).ToString();
        try
        {
            using var response = await _retry.ExecuteAsync(async token =>
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, hook.Url.Reveal())
                {
                    Content = new ByteArrayContent(body) { Headers = { ContentType = new("application/json") } },
                };
                request.Headers.TryAddWithoutValidation("Airlock-Webhook-Id", deliveryId);
                request.Headers.TryAddWithoutValidation("Airlock-Webhook-Event", "review." + reviewEvent.Event);
                if (hook.SigningSecret is { } secret)
                {
                    var timestamp = _timeProvider.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
                    request.Headers.TryAddWithoutValidation("Airlock-Webhook-Timestamp", timestamp);
                    request.Headers.TryAddWithoutValidation("Airlock-Webhook-Signature", "v1=" + Sign(secret.Reveal(), timestamp, body));
                }

                return await _clients.CreateClient(HttpClientName).SendAsync(request, token);
            }, cancellationToken);

            if (!response.IsSuccessStatusCode)
            {
                Log.Refused(_logger, hook.Name, reviewEvent.Event, reviewEvent.Review.Id, (int)response.StatusCode);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Shutting down.
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            // The URL may be a credential: log the webhook's name, never where it points.
            Log.Failed(_logger, hook.Name, reviewEvent.Event, reviewEvent.Review.Id, ex.GetType().Name);
        }
    }

    /// <summary>hex(HMAC-SHA256(secret, timestamp + "." + body)).</summary>
    public static string Sign(string secret, string timestamp, ReadOnlySpan<byte> body)
    {
        var message = new byte[Encoding.UTF8.GetByteCount(timestamp) + 1 + body.Length];
        var written = Encoding.UTF8.GetBytes(timestamp, message);
        message[written] = (byte)'.';
        body.CopyTo(message.AsSpan(written + 1));
        return Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), message));
    }

    private byte[] Render(WebhookConfig hook, ReviewEvent e)
    {
        var review = e.Review;
        var link = ReviewLinks.For(_config, review.Id);
        if (hook.Format == "slack")
        {
            var what = e.Event switch
            {
                "opened" => $"needs approval ({review.Approvals}/{review.ApprovalsNeeded})",
                "approved" => $"was approved by {e.Actor}",
                "denied" => $"was denied by {e.Actor}" + (e.Comment is null ? "" : $": {e.Comment}"),
                "expired" => "expired without a decision",
                _ => $"was executed: the upstream answered {review.Result?.Status}",
            };
            // Slack's mrkdwn link, <url|text>; with no link configured, the id alone.
            var reference = link is null ? review.Id.ToString() : $"<{link}|{review.Id}>";
            var text = $"Airlock review {reference} {what}\n`{review.Request.Method} {Recording.StoredTarget.Path(review.Request.Path)}` by `{review.Requester.Subject}`, rule `{review.Rule}`";
            return JsonSerializer.SerializeToUtf8Bytes(new SlackPayload(text), WebhookJsonContext.Default.SlackPayload);
        }

        return JsonSerializer.SerializeToUtf8Bytes(new ReviewEventPayload(
            "review." + e.Event, review.Id, review.Status, e.At, link, review.Rule, review.PolicyVersion, review.Request.Connection,
            review.Request.Method, Recording.StoredTarget.Path(review.Request.Path), review.Requester.Subject, [.. review.Approvers], review.ApprovalsNeeded,
            review.Approvals, review.ExpiresAt, e.Actor, e.Comment, review.Result?.Status), WebhookJsonContext.Default.ReviewEventPayload);
    }

    private static partial class Log
    {
        [LoggerMessage(5201, LogLevel.Warning, "Webhook {Webhook}: {Event} of review {ReviewId} answered {Status}")]
        public static partial void Refused(ILogger logger, string webhook, string @event, Guid reviewId, int status);

        [LoggerMessage(5202, LogLevel.Error, "Webhook {Webhook}: {Event} of review {ReviewId} could not be delivered after retries ({Error})")]
        public static partial void Failed(ILogger logger, string webhook, string @event, Guid reviewId, string error);

        [LoggerMessage(5203, LogLevel.Error, "Webhook {Webhook}: queue full, {Event} of review {ReviewId} not delivered")]
        public static partial void QueueFull(ILogger logger, string webhook, string @event, Guid reviewId);
    }
}
