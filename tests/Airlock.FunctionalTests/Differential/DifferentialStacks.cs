using Airlock.FunctionalTests.Infrastructure;

namespace Airlock.FunctionalTests.Differential;

/// <summary>
/// The three real upstream stacks of the parser-differential suite, each behind its own
/// connection of one real gateway, started once for the test class: Node (express with its JSON,
/// urlencoded and text parsers), Python (wsgiref, parse_qs, json.loads) and ASP.NET (a minimal API
/// on Kestrel binding with System.Text.Json).
/// </summary>
public sealed class DifferentialStacks : IAsyncLifetime
{
    /// <summary>
    /// Rules that read each thing a parser could read differently: the method, the path, a
    /// header, a query parameter and JSON body fields (a number, two strings), with deny rules
    /// (loose: any spelling) and an allow rule (exact). Everything else is allowed, so a request
    /// that gets through is one policy read as none of the denied things.
    /// </summary>
    public const string Policy = """
        rules:
          - name: no-deletes
            when: { methods: [DELETE] }
            action: deny
          - name: no-admin
            when: { paths: [/*/admin/**] }
            action: deny
          - name: no-production-header
            when: { headers: { X-Env: prod } }
            action: deny
          - name: no-big-pages
            when: { query: { limit: { gt: 100 } } }
            action: deny
          - name: no-large-amounts
            when: { body: { $.amount: { gt: 100 } } }
            action: deny
          - name: no-production
            when: { body: { $.environment: production } }
            action: deny
          - name: no-high-risk
            when: { body: { $.risk: high } }
            action: deny
          - name: small-refunds
            when: { methods: [POST], paths: [/*/refunds], body: { $.amount: { lte: 100 } } }
            action: allow
          - name: everything-else
            when: { connections: [node, python, aspnet] }
            action: allow
        """;

    public static readonly string[] Connections = ["node", "python", "aspnet"];

    private ProcessUpstream _node = null!;
    private ProcessUpstream _python = null!;
    private AspNetStack _aspnet = null!;

    public TestGateway Gateway { get; private set; } = null!;

    public string Key { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var node = ProcessUpstream.ExpressDifferentialAsync();
        var python = ProcessUpstream.WsgiDifferentialAsync();
        var aspnet = AspNetStack.StartAsync();
        _node = await node;
        _python = await python;
        _aspnet = await aspnet;
        Gateway = await TestGateway.StartAsync(new GatewayConfig { Policy = Policy }
            .Connection("node", _node.BaseUri)
            .Connection("python", _python.BaseUri)
            .Connection("aspnet", _aspnet.BaseUri));
        Key = await Gateway.CreateApiKeyAsync("agent", "agents");
    }

    public async Task DisposeAsync()
    {
        await Gateway.DisposeAsync();
        await _node.DisposeAsync();
        await _python.DisposeAsync();
        await _aspnet.DisposeAsync();
    }
}
