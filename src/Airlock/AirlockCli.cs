using System.CommandLine;
using Airlock.Cli.Commands;

namespace Airlock.Cli;

/// <summary>
/// The <c>airlock</c> command: one executable whose verbs run the gateway (<c>serve</c>) and
/// manage what it keeps (<c>keys</c>, <c>sessions</c>, <c>policy</c>, <c>reviews</c>, <c>audit</c>);
/// <c>login</c> and <c>logout</c> keep a person's sign-in for the admin-API verbs.
/// </summary>
internal static class AirlockCli
{
    /// <summary>Exit code for a configuration or usage error.</summary>
    public const int InvalidInput = 2;

    /// <summary>Exit code for a failure at run time (the store unreachable, say).</summary>
    public const int Failure = 1;

    public static RootCommand Create()
    {
        var root = new RootCommand("Airlock: an identity-aware gateway that holds agents' risky API calls for human approval.");
        root.Subcommands.Add(ServeCommand.Create());
        root.Subcommands.Add(KeysCommand.Create());
        root.Subcommands.Add(SessionsCommand.Create());
        root.Subcommands.Add(PolicyCommand.Create());
        root.Subcommands.Add(ReviewsCommand.Create());
        root.Subcommands.Add(AuditCommand.Create());
        root.Subcommands.Add(LoginCommand.Create());
        root.Subcommands.Add(LoginCommand.CreateLogout());
        return root;
    }

    public static Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken = default) =>
        // Response files (@file) are off: '--body @plan.json' names a body file, and no
        // argument should be read from a file the operator did not ask for.
        Create().Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null }).InvokeAsync(new InvocationConfiguration
        {
            Output = output,
            Error = error,
            // `serve` lets the ASP.NET host handle SIGINT/SIGTERM so that it drains cleanly.
            ProcessTerminationTimeout = null,
        }, cancellationToken);
}
