using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;

namespace Airlock.Cli.Commands;

/// <summary><c>airlock reviews list|show|approve|deny</c>, against a running gateway's admin API.</summary>
internal static class ReviewsCommand
{
    public static Command Create()
    {
        var reviews = new Command("reviews", "List, inspect and decide held requests (against a running gateway's admin API).");
        reviews.Subcommands.Add(List());
        reviews.Subcommands.Add(Show());
        reviews.Subcommands.Add(Decide("approve", "Approve a held request; it is then sent, exactly as shown, once."));
        reviews.Subcommands.Add(Decide("deny", "Deny a held request; the agent gets 403 with your comment."));
        return reviews;
    }

    private static Command List()
    {
        var (url, token) = AdminClient.Options();
        var status = new Option<string?>("--status") { Description = "Only reviews in this status (default: pending).", DefaultValueFactory = _ => "pending" };
        var all = new Option<bool>("--all") { Description = "Every status." };
        var command = new Command("list", "List the reviews you may decide (admins and auditors: all).") { url, token, status, all };
        command.SetAction(async (parse, cancellationToken) =>
        {
            using var client = AdminClient.Create(parse, url, token);
            if (client is null)
            {
                return AirlockCli.InvalidInput;
            }

            var query = parse.GetValue(all) ? "" : $"?status={Uri.EscapeDataString(parse.GetValue(status) ?? "pending")}";
            if (await client.SendAsync(parse, HttpMethod.Get, "/api/reviews" + query, null, cancellationToken) is not JsonArray list)
            {
                return AirlockCli.Failure;
            }

            var output = parse.InvocationConfiguration.Output;
            output.WriteLine($"{"REVIEW",-36}  {"STATUS",-17}  {"APPROVALS",9}  {"RULE",-24}  {"REQUESTER",-24}  REQUEST");
            foreach (var r in list)
            {
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{(string?)r!["id"],-36}  {(string?)r["status"],-17}  {$"{(int?)r["approvals"]}/{(int?)r["approvalsNeeded"]}",9}  {Printable.Text((string?)r["rule"]),-24}  {Printable.Text((string?)r["requester"]!["subject"]),-24}  {(string?)r["request"]!["method"]} {Printable.Text((string?)r["request"]!["path"])}"));
            }

            return 0;
        });
        return command;
    }

    private static Command Show()
    {
        var (url, token) = AdminClient.Options();
        var id = new Argument<Guid>("id") { Description = "The review's id." };
        var command = new Command("show", "Show a review: the exact request, who asked, who decided.") { url, token, id };
        command.SetAction(async (parse, cancellationToken) =>
        {
            using var client = AdminClient.Create(parse, url, token);
            if (client is null)
            {
                return AirlockCli.InvalidInput;
            }

            if (await client.SendAsync(parse, HttpMethod.Get, $"/api/reviews/{parse.GetValue(id)}", null, cancellationToken) is not { } review)
            {
                return AirlockCli.Failure;
            }

            Print(parse.InvocationConfiguration.Output, review);
            return 0;
        });
        return command;
    }

    private static Command Decide(string verdict, string description)
    {
        var (url, token) = AdminClient.Options();
        var id = new Argument<Guid>("id") { Description = "The review's id." };
        var comment = new Option<string?>("--comment", "-m") { Description = "Why; the agent sees it on a denial." };
        var command = new Command(verdict, description) { url, token, id, comment };
        Option<int?>? window = null;
        if (verdict == "approve")
        {
            window = new Option<int?>("--window") { Description = "Also let this caller through this rule for the next N minutes (up to the rule's maxGrant)." };
            command.Options.Add(window);
        }

        command.SetAction(async (parse, cancellationToken) =>
        {
            using var client = AdminClient.Create(parse, url, token);
            if (client is null)
            {
                return AirlockCli.InvalidInput;
            }

            var body = new JsonObject { ["comment"] = parse.GetValue(comment) };
            if (window is not null && parse.GetValue(window) is { } minutes)
            {
                body["windowMinutes"] = minutes;
            }

            if (await client.SendAsync(parse, HttpMethod.Post, $"/api/reviews/{parse.GetValue(id)}/{verdict}", body, cancellationToken) is not { } review)
            {
                return AirlockCli.Failure;
            }

            parse.InvocationConfiguration.Output.WriteLine($"Review {(string?)review["id"]} is now {(string?)review["status"]} ({(int?)review["approvals"]}/{(int?)review["approvalsNeeded"]} approvals).");
            return 0;
        });
        return command;
    }

    private static void Print(TextWriter output, JsonNode review)
    {
        var request = review["request"]!;
        output.WriteLine($"review:    {(string?)review["id"]}");
        output.WriteLine($"status:    {(string?)review["status"]}  ({(int?)review["approvals"]}/{(int?)review["approvalsNeeded"]} approvals; expires {(string?)review["expiresAt"]})");
        output.WriteLine($"rule:      {Printable.Text((string?)review["rule"])} ({(string?)review["policyVersion"]})");
        if ((string?)review["ambiguous"] is { } ambiguous)
        {
            output.WriteLine($"ambiguous: held only because the request could not be read one way: {Printable.Text(ambiguous)}");
        }

        output.WriteLine($"requester: {Printable.Text((string?)review["requester"]!["subject"])}");
        output.WriteLine($"approvers: {string.Join(", ", review["approvers"]!.AsArray().Select(a => (string?)a))}");
        output.WriteLine(review["canDecide"]!.GetValue<bool>() ? "you may decide it" : $"you may not decide it: {(string?)review["whyNot"]}");
        output.WriteLine();
        var query = (string?)request["query"];
        output.WriteLine($"{(string?)request["method"]} {Printable.Text((string?)request["path"])}{(query is null ? "" : "?" + Printable.Text(query))}");
        foreach (var header in request["headers"]!.AsArray())
        {
            output.WriteLine($"{Printable.Text((string?)header![0])}: {Printable.Text((string?)header[1])}");
        }

        output.WriteLine();
        var body = request["body"]!;
        output.WriteLine((string?)body["text"] is { } text ? Printable.Text(text) : $"({(int?)body["bytes"]} bytes, not text; base64: {(string?)body["base64"]})");
        var decisions = review["decisions"]!.AsArray();
        if (decisions.Count > 0)
        {
            output.WriteLine();
            foreach (var d in decisions)
            {
                output.WriteLine($"{(string?)d!["at"]}  {(string?)d["verdict"],-7}  {Printable.Text((string?)d["subject"])}{((string?)d["comment"] is { } c ? ": " + Printable.Text(c) : "")}");
            }
        }
    }
}
