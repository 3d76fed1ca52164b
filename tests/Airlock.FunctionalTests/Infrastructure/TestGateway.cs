using System.Net;
using Airlock.Gateway.Configuration;
using Airlock.Gateway.Hosting;
using Airlock.Gateway.Identity.ApiKeys;
using Airlock.Gateway.Policy;
using Airlock.Gateway.Sessions;
using Airlock.Gateway.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Airlock.FunctionalTests.Infrastructure;

/// <summary>
/// The real gateway, built from a real configuration file, on real Kestrel listeners at
/// 127.0.0.1:0, in the test process.
/// </summary>
public sealed class TestGateway : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TestGateway(WebApplication app, string directory, IPEndPoint proxy, IPEndPoint admin)
    {
        _app = app;
        Directory = directory;
        ProxyUri = new Uri($"http://{proxy}");
        AdminUri = new Uri($"http://{admin}");
        Proxy = new HttpClient { BaseAddress = ProxyUri };
        Admin = new HttpClient { BaseAddress = AdminUri };
    }

    public string Directory { get; }

    public Uri ProxyUri { get; }

    public Uri AdminUri { get; }

    /// <summary>A client of the proxy listener, as an agent uses it.</summary>
    public HttpClient Proxy { get; }

    public HttpClient Admin { get; }

    internal IAirlockStore Store => _app.Services.GetRequiredService<IAirlockStore>();

    public IServiceProvider Services => _app.Services;

    public string PolicyPath => Path.Combine(Directory, "policy.yaml");

    internal PolicyProvider Policies => _app.Services.GetRequiredService<PolicyProvider>();

    public static async Task<TestGateway> StartAsync(GatewayConfig config, TimeProvider? timeProvider = null, CapturedLogs? logs = null, string? directory = null,
        Action<IServiceCollection>? services = null)
    {
        directory ??= System.IO.Directory.CreateTempSubdirectory("airlock-test-").FullName;
        var path = Path.Combine(directory, "airlock.yaml");
        await File.WriteAllTextAsync(path, config.ToYaml());
        await File.WriteAllTextAsync(Path.Combine(directory, "policy.yaml"), config.Policy);
        var result = ConfigLoader.LoadFile(path, name => config.Environment.GetValueOrDefault(name));
        Assert.True(result.Succeeded, "test configuration is invalid:\n" + string.Join("\n", result.Errors));
        var policy = PolicyProvider.LoadInitial(result.Config!);
        Assert.True(policy.Succeeded, "test policy is invalid:\n" + string.Join("\n", policy.Errors));

        var app = AirlockGateway.Build(result.Config!, policy, new AirlockGatewayOptions
        {
            TimeProvider = timeProvider,
            ConfigureServices = services,
            ConfigureLogging = logging =>
            {
                if (logs is null)
                {
                    logging.SetMinimumLevel(LogLevel.Warning);
                }
                else
                {
                    logging.ClearProviders();
                    logging.SetMinimumLevel(LogLevel.Trace);
                    logging.AddFilter(_ => true);
                    logging.AddProvider(logs);
                }
            },
        });
        var (proxy, admin) = await AirlockGateway.StartAsync(app, CancellationToken.None);
        return new TestGateway(app, directory, proxy, admin);
    }

    /// <summary>Creates an agent API key in the gateway's store and returns its text.</summary>
    public async Task<string> CreateApiKeyAsync(string name, params string[] groups)
    {
        var (created, error) = await _app.Services.GetRequiredService<ApiKeyService>().CreateAsync(name, groups, CancellationToken.None);
        Assert.True(created is not null, error);
        return created.Text;
    }

    /// <summary>The stored session for a response, once the background writer has stored it.</summary>
    public Task<SessionRecord> SessionAsync(HttpResponseMessage response)
    {
        var id = Guid.Parse(Assert.Single(response.Headers.GetValues("Airlock-Session")));
        return Eventually.GetAsync(() => Store.GetSessionAsync(id, CancellationToken.None), what: $"session {id} to be stored");
    }

    public static HttpRequestMessage Get(string path, string? bearer = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (bearer is not null)
        {
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", bearer);
        }

        return request;
    }

    /// <summary>Stops the gateway but keeps its directory (store, configuration) for a restart.</summary>
    public async Task StopAsync()
    {
        Proxy.Dispose();
        Admin.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A file still held open; the temporary directory is cleaned by the system.
        }
    }

    /// <summary>A call to the admin API as a person with an OIDC token.</summary>
    public async Task<HttpResponseMessage> AdminAsync(HttpMethod method, string path, string token, object? body = null)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        if (body is not null)
        {
            request.Content = System.Net.Http.Json.JsonContent.Create(body);
        }

        return await Admin.SendAsync(request);
    }

    /// <summary>The one pending review, once the held request has opened it.</summary>
    public Task<Gateway.Reviews.Review> PendingReviewAsync(string? rule = null) =>
        Eventually.GetAsync(async () =>
        {
            var pending = await Store.ListReviewsAsync(Gateway.Reviews.ReviewStatus.Pending, 10, CancellationToken.None);
            return pending.FirstOrDefault(r => rule is null || r.Rule == rule);
        }, what: "a pending review");

    /// <summary>The review, once it reaches the status.</summary>
    public Task<Gateway.Reviews.Review> ReviewInStatusAsync(Guid id, string status) =>
        Eventually.GetAsync(async () => await Store.GetReviewAsync(id, CancellationToken.None) is { } r && r.Status == status ? r : null,
            what: $"review {id} to be {status}");
}
