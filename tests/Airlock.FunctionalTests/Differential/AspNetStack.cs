using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Airlock.FunctionalTests.Differential;

/// <summary>
/// The ASP.NET stack of the parser-differential suite: a minimal API on real Kestrel at
/// 127.0.0.1:0, reading a request as such an API does. The body is bound to a typed model with
/// System.Text.Json and the minimal API's own options (the web defaults: property names without
/// case, numbers also from strings), the form with <c>ReadFormAsync</c>, the query with
/// <c>Request.Query</c> (names without case), a number as minimal API binding parses one
/// (<c>decimal.TryParse</c>, invariant culture). Every request is answered with what it read, in
/// the shape the Node and Python stacks answer (tests/fixtures/express/differential.mjs); a body
/// it cannot bind is answered 422 <c>{"stack":"aspnet","refused":…}</c>.
/// </summary>
public sealed class AspNetStack : IAsyncDisposable
{
    private readonly WebApplication _app;

    private AspNetStack(WebApplication app) => _app = app;

    public Uri BaseUri { get; private set; } = null!;

    /// <summary>The body a refund API binds: the fields the suite's rules read.</summary>
    public sealed class Probe
    {
        public decimal? Amount { get; set; }

        public string? Environment { get; set; }

        public string? Risk { get; set; }

        [JsonPropertyName("_method")]
        public string? Method { get; set; }
    }

    public static async Task<AspNetStack> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var stack = new AspNetStack(builder.Build());
        stack._app.Run(HandleAsync);
        await stack._app.StartAsync();
        var address = stack._app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        stack.BaseUri = new Uri(address);
        return stack;
    }

    private static async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var answer = new JsonObject
        {
            ["stack"] = "aspnet",
            ["method"] = request.Method,
            ["rawTarget"] = context.Features.GetRequiredFeature<IHttpRequestFeature>().RawTarget,
            ["path"] = request.Path.Value,
        };
        var query = new JsonObject();
        foreach (var (name, values) in request.Query)
        {
            query[name] = new JsonArray([.. values.Select(v => (JsonNode?)v)]);
        }

        var headers = new JsonObject();
        foreach (var (name, values) in request.Headers.Where(h => h.Key != "Authorization"))
        {
            headers[name] = new JsonArray([.. values.Select(v => (JsonNode?)v)]);
        }

        answer["query"] = query;
        answer["headers"] = headers;
        var fields = new JsonObject();
        var numbers = new JsonObject();
        string kind;
        try
        {
            if (request.HasJsonContentType())
            {
                var options = context.RequestServices.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
                var probe = await request.ReadFromJsonAsync<Probe>(options, context.RequestAborted);
                kind = "json";
                if (probe?.Amount is { } amount)
                {
                    fields["amount"] = new JsonArray(amount.ToString(CultureInfo.InvariantCulture));
                    numbers["amount"] = new JsonArray(amount.ToString(CultureInfo.InvariantCulture));
                }

                Add(fields, "environment", probe?.Environment);
                Add(fields, "risk", probe?.Risk);
                Add(fields, "_method", probe?.Method);
            }
            else if (request.HasFormContentType)
            {
                var form = await request.ReadFormAsync(context.RequestAborted);
                kind = "form";
                foreach (var (name, values) in form)
                {
                    if (name is "amount" or "environment" or "risk" or "_method")
                    {
                        fields[name] = new JsonArray([.. values.Select(v => (JsonNode?)v)]);
                    }
                }

                if (form.TryGetValue("amount", out var amounts))
                {
                    numbers["amount"] = new JsonArray([.. amounts.Select(v => (JsonNode?)Number(v))]);
                }
            }
            else
            {
                kind = request.ContentLength > 0 || request.Headers.TransferEncoding.Count > 0 ? "text" : "none";
            }
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or InvalidDataException or BadHttpRequestException or NotSupportedException)
        {
            context.Response.StatusCode = 422;
            await context.Response.WriteAsJsonAsync(new JsonObject { ["stack"] = "aspnet", ["refused"] = ex.GetType().Name + ": " + ex.Message });
            return;
        }

        answer["bodyKind"] = kind;
        answer["fields"] = fields;
        answer["numbers"] = numbers;
        answer["limitNumbers"] = new JsonArray([.. request.Query["limit"].Select(v => (JsonNode?)Number(v))]);
        var bytes = System.Text.Encoding.UTF8.GetBytes(answer.ToJsonString());
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = bytes.Length;
        await context.Response.Body.WriteAsync(bytes);
    }

    private static void Add(JsonObject fields, string name, string? value)
    {
        if (value is not null)
        {
            fields[name] = new JsonArray(value);
        }
    }

    /// <summary>A text as minimal API binding reads a decimal parameter; null when it does not parse.</summary>
    private static string? Number(string? text) =>
        decimal.TryParse(text, NumberStyles.Number, CultureInfo.InvariantCulture, out var value) ? value.ToString(CultureInfo.InvariantCulture) : null;

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
