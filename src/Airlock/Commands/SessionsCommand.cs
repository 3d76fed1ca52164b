using System.CommandLine;
using System.Globalization;
using Airlock.Gateway.Sessions;

namespace Airlock.Cli.Commands;

/// <summary><c>airlock sessions list|show</c>: the requests that reached the gateway, newest
/// first, and the replay of one exchange as an HTTP transcript.</summary>
internal static class SessionsCommand
{
    public static Command Create()
    {
        var sessions = new Command("sessions", "Inspect the sessions the gateway recorded.");
        var config = ConfigOption.Create();
        var limit = new Option<int>("--limit") { Description = "How many to show.", DefaultValueFactory = _ => 20 };
        var connection = new Option<string?>("--connection") { Description = "Only this connection." };
        var subject = new Option<string?>("--subject") { Description = "Only this caller (e.g. key:billing-agent)." };
        var since = new Option<DateTimeOffset?>("--since") { Description = "Only sessions that started at or after this time (ISO 8601)." };
        var status = new Option<int?>("--status") { Description = "Only sessions answered with this status (e.g. 403)." };
        var list = new Command("list", "List sessions, newest first.") { config, limit, connection, subject, since, status };
        limit.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() is < 1 or > 10_000)
            {
                result.AddError("--limit must be between 1 and 10000");
            }
        });
        list.SetAction(async (parse, cancellationToken) =>
        {
            await using var store = await ConfigOption.OpenStoreAsync(parse, config, cancellationToken);
            if (store is null)
            {
                return AirlockCli.InvalidInput;
            }

            var rows = await store.ListSessionsAsync(
                new SessionQuery(parse.GetValue(limit), parse.GetValue(connection), parse.GetValue(subject), parse.GetValue(since), parse.GetValue(status)),
                cancellationToken);
            var output = parse.InvocationConfiguration.Output;
            output.WriteLine($"{"SESSION",-36}  {"STARTED",-24}  {"STATUS",6}  {"MS",7}  {"CALLER",-24}  {"DECISION",-32}  {"MASKED",6}  {"METHOD",-7}  PATH");
            foreach (var s in rows)
            {
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{s.Id,-36}  {s.StartedAt:yyyy-MM-ddTHH:mm:ss.fffZ}  {s.Status,6}  {s.Duration.TotalMilliseconds,7:0.0}  {Printable.Text(s.Subject),-24}  {Printable.Text(SessionOutcome.Describe(s, full: false)),-32}  {s.Masked,6}  {Printable.Text(s.Method),-7}  {Printable.Text(s.Path)}"));
            }

            return 0;
        });
        sessions.Subcommands.Add(list);
        sessions.Subcommands.Add(ShowCommand());
        return sessions;
    }

    private static Command ShowCommand()
    {
        var config = ConfigOption.Create();
        var id = new Argument<Guid>("session") { Description = "The session id (the Airlock-Session header of the response)." };
        var pretty = new Option<bool>("--pretty") { Description = "Indent JSON bodies for reading. By default bodies are shown exactly as recorded." };
        var raw = new Option<bool>("--raw") { Description = "Write control characters as recorded rather than escaped (for a file or a pipe, not a terminal)." };
        var show = new Command("show", "Replay a session as an HTTP transcript: what the agent sent and what it got, bodies as they were.") { config, id, pretty, raw };
        show.SetAction(async (parse, cancellationToken) =>
        {
            await using var store = await ConfigOption.OpenStoreAsync(parse, config, cancellationToken);
            if (store is null)
            {
                return AirlockCli.InvalidInput;
            }

            var sessionId = parse.GetValue(id);
            if (await store.GetSessionAsync(sessionId, cancellationToken) is not { } session)
            {
                parse.InvocationConfiguration.Error.WriteLine($"error: no session {sessionId}");
                return AirlockCli.Failure;
            }

            var transcript = Airlock.Gateway.Recording.Transcript.Format(session, await store.GetExchangeAsync(sessionId, cancellationToken), parse.GetValue(pretty));
            var output = parse.InvocationConfiguration.Output;
            if (parse.GetValue(raw))
            {
                output.Write(transcript);
                return 0;
            }

            // Recorded text comes from callers and upstreams: an escape sequence in it must not
            // reach the terminal as a command.
            foreach (var line in transcript.Split('\n'))
            {
                output.WriteLine(line.Length == 0 ? "" : Printable.Text(line));
            }

            return 0;
        });
        return show;
    }
}
