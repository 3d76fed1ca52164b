using System.CommandLine;
using Airlock.Gateway.Configuration;
using Airlock.Gateway.Hosting;
using Airlock.Gateway.Policy;
using Microsoft.Extensions.Hosting;

namespace Airlock.Cli.Commands;

/// <summary><c>airlock serve --config file</c>: validates the configuration as a whole, then
/// runs the gateway until SIGINT or SIGTERM.</summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var config = ConfigOption.Create();
        var command = new Command("serve", "Run the gateway: the proxy listener for agents and the admin listener.") { config };
        command.SetAction((parse, cancellationToken) => RunAsync(parse, config, cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parse, Option<string?> option, CancellationToken cancellationToken)
    {
        var output = parse.InvocationConfiguration.Output;
        var error = parse.InvocationConfiguration.Error;
        var path = ConfigOption.Resolve(parse, option);
        if (path is null)
        {
            return AirlockCli.InvalidInput;
        }

        var result = ConfigLoader.LoadFile(path);
        foreach (var warning in result.Warnings)
        {
            error.WriteLine($"warning: {warning}");
        }

        if (!result.Succeeded)
        {
            foreach (var e in result.Errors)
            {
                error.WriteLine($"error: {e}");
            }

            error.WriteLine($"{result.Errors.Count} error(s) in the configuration; the gateway did not start.");
            return AirlockCli.InvalidInput;
        }

        var policy = PolicyProvider.LoadInitial(result.Config!);
        foreach (var warning in policy.Warnings)
        {
            error.WriteLine($"warning: {warning}");
        }

        if (!policy.Succeeded)
        {
            foreach (var e in policy.Errors)
            {
                error.WriteLine($"error: {e}");
            }

            error.WriteLine($"{policy.Errors.Count} error(s) in the policy; the gateway did not start.");
            return AirlockCli.InvalidInput;
        }

        await using var app = AirlockGateway.Build(result.Config!, policy);
        try
        {
            var (proxy, admin) = await AirlockGateway.StartAsync(app, cancellationToken);
            // Stable lines that scripts and tests read to find the bound ports.
            output.WriteLine($"Airlock proxy listening on http://{proxy}");
            output.WriteLine($"Airlock admin listening on http://{admin}");
            output.Flush();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            error.WriteLine($"error: the gateway could not start: {ex.Message}");
            return AirlockCli.Failure;
        }

        await app.WaitForShutdownAsync(CancellationToken.None);
        return 0;
    }
}
