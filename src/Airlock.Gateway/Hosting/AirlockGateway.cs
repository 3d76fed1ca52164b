using System.Net;
using Airlock.Gateway.Admin;
using Airlock.Gateway.Audit;
using Airlock.Gateway.Configuration;
using Airlock.Gateway.Console;
using Airlock.Gateway.Errors;
using Airlock.Gateway.Forwarding;
using Airlock.Gateway.Identity;
using Airlock.Gateway.Identity.ApiKeys;
using Airlock.Gateway.Normalization;
using Airlock.Gateway.Policy;
using Airlock.Gateway.Recording;
using Airlock.Gateway.Reviews;
using Airlock.Gateway.Routing;
using Airlock.Gateway.Sessions;
using Airlock.Gateway.Storage;
using Airlock.Gateway.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace Airlock.Gateway.Hosting;

/// <summary>Settings for hosting the gateway that are not part of its configuration file.</summary>
internal sealed class AirlockGatewayOptions
{
    /// <summary>The clock; tests pass a fake one.</summary>
    public TimeProvider? TimeProvider { get; set; }

    /// <summary>Adjusts logging, e.g. to capture it in tests.</summary>
    public Action<ILoggingBuilder>? ConfigureLogging { get; set; }

    /// <summary>Adjusts the services after the gateway has registered its own, e.g. for tests
    /// that count what reaches the store.</summary>
    public Action<IServiceCollection>? ConfigureServices { get; set; }
}

/// <summary>
/// Builds the gateway: two Kestrel listeners and one pipeline each.
/// <code>
/// proxy listener:  Session → Normalization → Identity → caller limit → Routing → Policy → Forwarding (YARP) → upstream
/// admin listener:  /healthz, /readyz; /api/* (people with OIDC tokens, roles from groups);
///                  the console (people signed in with OIDC, when configured)
/// </code>
/// </summary>
internal static class AirlockGateway
{
    private static readonly string Version = typeof(AirlockGateway).Assembly.GetName().Version?.ToString() ?? "unknown";

    public static WebApplication Build(AirlockConfig config, PolicyLoadResult policy, AirlockGatewayOptions? options = null)
    {
        if (!policy.Succeeded)
        {
            throw new ArgumentException("the policy did not load; report its errors before building the gateway", nameof(policy));
        }

        options ??= new AirlockGatewayOptions();
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ApplicationName = "airlock",
            ContentRootPath = Path.GetDirectoryName(config.SourcePath),
            // No file watcher for appsettings*.json (removed below; see there).
            Args = ["--hostBuilder:reloadConfigOnChange=false"],
        });

        // The YAML file is the gateway's whole configuration. The slim builder would also read
        // appsettings*.json from the content root (the configuration's directory) and watch that
        // directory tree for changes: a second, silent configuration surface (a "Kestrel" section
        // there adds listeners), and a watcher woken by every write of a SQLite store beside it.
        foreach (var json in builder.Configuration.Sources.OfType<Microsoft.Extensions.Configuration.Json.JsonConfigurationSource>().ToList())
        {
            builder.Configuration.Sources.Remove(json);
        }

        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.UseUtcTimestamp = true;
            o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
        });
        builder.Logging.SetMinimumLevel(LogLevel.Information);
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Information);
        builder.Logging.AddFilter("System.Net.Http", LogLevel.Warning);
        // YARP logs two lines per forwarded request at Information: on a busy gateway that was
        // most of the log and a measurable share of the CPU. Its failures are warnings.
        builder.Logging.AddFilter("Yarp", LogLevel.Warning);
        options.ConfigureLogging?.Invoke(builder.Logging);

        var bound = new BoundListeners();
        builder.Services.AddSingleton(bound);
        builder.WebHost.UseKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            ServerLimits.Apply(kestrel.Limits);
            kestrel.Listen(config.Listeners.Proxy, listen =>
            {
                listen.Tag(Listener.Proxy).Protocols = HttpProtocols.Http1;
                bound.Proxy = listen;
            });
            kestrel.Listen(config.Listeners.Admin, listen =>
            {
                listen.Tag(Listener.Admin).Protocols = HttpProtocols.Http1;
                bound.Admin = listen;
            });
        });

        builder.Services.AddAirlockGateway(config, options.TimeProvider ?? TimeProvider.System);
        builder.Services.AddSingleton(policy.Policy!);
        builder.Services.AddSingleton(new InitialPolicyWarnings(policy.Warnings));
        options.ConfigureServices?.Invoke(builder.Services);
        var app = builder.Build();

        app.MapWhen(Listener.IsProxy, proxy => proxy
            .UseMiddleware<SessionMiddleware>()
            .UseMiddleware<NormalizationMiddleware>()
            .UseMiddleware<IdentityMiddleware>()
            // Before anything that writes a known caller's own audit event: the caller's limit
            // bounds what it can add to the trail (docs/audit.md).
            .UseMiddleware<RateLimiting.CallerRateLimitMiddleware>()
            .UseMiddleware<RequesterReviewsMiddleware>()
            .UseMiddleware<RoutingMiddleware>()
            .UseMiddleware<Recording.RecordingMiddleware>()
            .UseMiddleware<Normalization.HeaderNameMiddleware>()
            .UseMiddleware<RateLimiting.ConnectionRateLimitMiddleware>()
            .UseMiddleware<PolicyMiddleware>()
            .UseMiddleware<ReviewMiddleware>()
            .UseMiddleware<ForwardingMiddleware>());

        if (config.Console is not null)
        {
            // The console's security headers, then its sign-in callbacks. Past the proxy branch:
            // the proxy listener never runs authentication, so /signin-oidc there is a connection
            // path like any other. (Called here, ASP.NET does not add its own at the front.)
            app.UseWhen(context => Console.ConsolePaths.IsConsole(context.Request.Path), console => console.UseMiddleware<Console.ConsoleSecurityHeaders>().UseMiddleware<Console.ConsoleProviderFailure>());
            app.UseAuthentication();
            app.UseAntiforgery();
        }

        app.UseRouting();
        app.UseWhen(context => context.Request.Path.StartsWithSegments("/api"), api => api.UseMiddleware<AdminAuthenticationMiddleware>());
        if (config.Console is not null)
        {
            app.UseWhen(context => Console.ConsolePaths.NeedsPerson(context.Request.Path), console => console.UseMiddleware<Console.ConsoleAuthenticationMiddleware>());
            app.MapAirlockConsole();
        }

        app.MapAirlockHealth();
        app.MapAirlockLogin(config.Admin.Login);
        // Prometheus scrapes the admin listener, as it reads health: never the proxy listener.
        app.MapPrometheusScrapingEndpoint("/metrics");
        app.MapPolicyApi();
        app.MapReviewApi();
        app.MapAuditApi();
        app.MapSessionApi();
        app.MapCallerApi();
        app.MapFallback(context => ProblemWriter.WriteAsync(context, ProblemType.NotFound, "no such admin endpoint"));
        return app;
    }

    /// <summary>
    /// The gateway's services, one feature at a time. The order is the order hosted services
    /// start in (and the reverse of the order they stop in): the audit writer first, so it runs
    /// before anything records an event and drains after everything else has stopped.
    /// </summary>
    public static IServiceCollection AddAirlockGateway(this IServiceCollection services, AirlockConfig config, TimeProvider timeProvider)
    {
        services.TryAddSingleton(timeProvider);
        services.AddSingleton(config);
        services.AddSingleton(config.Identity);
        services.AddAirlockStore(config.Store);
        services.AddAirlockAudit(config.Audit);
        services.AddSingleton<ApiKeyService>();
        services.AddAirlockForwarding();
        services.AddSingleton<Admin.AuditVerificationGate>();
        services.AddAirlockTelemetry(config.Traces, Version);
        services.AddAirlockRecordingRetention();
        services.AddAirlockPolicy();
        services.AddAirlockSessionRecording(config.RecordingQueue);
        // ASP.NET authentication pulls in data protection. Its keys stay in memory rather than in a
        // key ring in the home directory: the only cookies are the console's (session, sign-in
        // correlation, antiforgery), and a restart signing people out of the console is the price.
        services.AddDataProtection().UseEphemeralDataProtectionProvider();
        services.AddAirlockIdentity(config.Identity);
        services.AddAirlockReviews(config.Store);
        if (config.Console is { } console)
        {
            services.AddAirlockConsole(console);
        }

        services.AddHealthChecks()
            .AddCheck<ConfigurationHealthCheck>("configuration", tags: ["ready"])
            .AddCheck<StoreHealthCheck>("store", tags: ["ready"])
            .AddCheck<PolicyHealthCheck>("policy", tags: ["ready"]);
        return services;
    }

    /// <summary>
    /// Applies the store's migrations, then starts both listeners. Returns the addresses they
    /// actually bound, which differ from the configured ones when a port is 0.
    /// </summary>
    public static async Task<(IPEndPoint Proxy, IPEndPoint Admin)> StartAsync(WebApplication app, CancellationToken cancellationToken)
    {
        await app.Services.GetRequiredService<IAirlockStore>().MigrateAsync(cancellationToken);
        app.Services.GetRequiredService<AuditWriter>().Start();
        await RecordStartAsync(app.Services, cancellationToken);
        await app.Services.GetRequiredService<PolicyProvider>()
            .AnnounceInitialAsync(app.Services.GetRequiredService<InitialPolicyWarnings>().Warnings, cancellationToken);
        await app.StartAsync(cancellationToken);
        // Kestrel writes the bound address back into the listen options when it binds.
        var bound = app.Services.GetRequiredService<BoundListeners>();
        return (bound.Proxy!.IPEndPoint!, bound.Admin!.IPEndPoint!);
    }

    /// <summary>
    /// The first event of every run: which instance started, on which store, with which
    /// checkpoint key and which configuration. A gap between runs in the trail is then visible
    /// as such, and a changed configuration file as a changed hash.
    /// </summary>
    private static Task RecordStartAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var config = services.GetRequiredService<AirlockConfig>();
        var audit = services.GetRequiredService<AuditTrail>();
        var detail = new Dictionary<string, string>
        {
            ["instance"] = services.GetRequiredService<GatewayInstance>().Id,
            ["version"] = Version,
            ["store"] = config.Store is PostgresStoreConfig ? "postgres" : "sqlite",
            ["checkpointKey"] = services.GetRequiredService<AuditCheckpointService>().KeyId ?? "none",
            ["config"] = config.SourcePath,
            ["configSha256"] = config.ContentHash,
        };
        return audit.RecordAsync(audit.Event(AuditKinds.GatewayStarted, "started", null, detail), cancellationToken);
    }
}

/// <summary>The warnings of the policy loaded at start, reported once the logs are up.</summary>
internal sealed record InitialPolicyWarnings(IReadOnlyList<ConfigError> Warnings);

/// <summary>The listen options Kestrel was given, read back after binding.</summary>
internal sealed class BoundListeners
{
    public ListenOptions? Proxy { get; set; }

    public ListenOptions? Admin { get; set; }
}
