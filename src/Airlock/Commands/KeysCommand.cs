using System.CommandLine;
using Airlock.Gateway.Audit;
using Airlock.Gateway.Identity.ApiKeys;
using Airlock.Gateway.Storage;

namespace Airlock.Cli.Commands;

/// <summary>
/// <c>airlock keys create|list|revoke</c>: agent API keys, straight in the store. Creating and
/// revoking are admin actions, so each is recorded in the audit trail before the command
/// reports success.
/// </summary>
internal static class KeysCommand
{
    public static Command Create()
    {
        var keys = new Command("keys", "Manage agent API keys.");
        keys.Subcommands.Add(CreateCommand());
        keys.Subcommands.Add(ListCommand());
        keys.Subcommands.Add(RevokeCommand());
        return keys;
    }

    private static Command CreateCommand()
    {
        var config = ConfigOption.Create();
        var name = new Option<string>("--name") { Description = "The key's name, e.g. billing-agent.", Required = true };
        var groups = new Option<string[]>("--groups")
        {
            Description = "Groups the key belongs to, comma-separated or repeated.",
            AllowMultipleArgumentsPerToken = true,
        };
        var owner = new Option<string?>("--owner")
        {
            Description = "The person answerable for the key, as a subject (corp:alice). They can never approve the key's held requests.",
        };
        var command = new Command("create", "Create a key. The key is printed once, on standard output; only its hash is stored.")
        {
            config, name, groups, owner,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            await using var store = await ConfigOption.OpenStoreAsync(parse, config, cancellationToken);
            if (store is null)
            {
                return AirlockCli.InvalidInput;
            }

            var service = new ApiKeyService(store, TimeProvider.System);
            var groupList = (parse.GetValue(groups) ?? []).SelectMany(g => g.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
            var (created, error) = await service.CreateAsync(parse.GetValue(name)!, groupList, cancellationToken, parse.GetValue(owner));
            if (created is null)
            {
                parse.InvocationConfiguration.Error.WriteLine($"error: {error}");
                return AirlockCli.InvalidInput;
            }

            var err = parse.InvocationConfiguration.Error;
            if (await RecordAsync(store, AuditKinds.KeyCreated, "created", created.Key, cancellationToken) is { } auditError)
            {
                // An unrecorded key must not exist: take it back before reporting the failure.
                await service.RevokeAsync(created.Key.Id, CancellationToken.None);
                err.WriteLine($"error: the key was not created, because the audit trail could not record it: {auditError}");
                return AirlockCli.Failure;
            }

            err.WriteLine($"Created API key '{created.Key.Name}' (id {created.Key.Id}, groups: {Groups(created.Key)}).");
            err.WriteLine("Store it now: it is shown once and cannot be recovered.");
            parse.InvocationConfiguration.Output.WriteLine(created.Text);
            return 0;
        });
        return command;
    }

    private static Command ListCommand()
    {
        var config = ConfigOption.Create();
        var all = new Option<bool>("--all") { Description = "Include revoked keys." };
        var command = new Command("list", "List keys (never their secrets).") { config, all };
        command.SetAction(async (parse, cancellationToken) =>
        {
            await using var store = await ConfigOption.OpenStoreAsync(parse, config, cancellationToken);
            if (store is null)
            {
                return AirlockCli.InvalidInput;
            }

            var keys = await store.ListApiKeysAsync(parse.GetValue(all), cancellationToken);
            var output = parse.InvocationConfiguration.Output;
            output.WriteLine($"{"ID",-16}  {"NAME",-24}  {"GROUPS",-24}  {"CREATED",-20}  REVOKED");
            foreach (var key in keys)
            {
                output.WriteLine($"{key.Id,-16}  {key.Name,-24}  {Groups(key),-24}  {key.CreatedAt:yyyy-MM-ddTHH:mm:ssZ}  {(key.RevokedAt is { } r ? r.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture) : "-")}");
            }

            return 0;
        });
        return command;
    }

    private static Command RevokeCommand()
    {
        var config = ConfigOption.Create();
        var key = new Argument<string>("id-or-name") { Description = "The key's id or name." };
        var command = new Command("revoke", "Revoke a key. Requests with it are refused from then on.") { config, key };
        command.SetAction(async (parse, cancellationToken) =>
        {
            await using var store = await ConfigOption.OpenStoreAsync(parse, config, cancellationToken);
            if (store is null)
            {
                return AirlockCli.InvalidInput;
            }

            var service = new ApiKeyService(store, TimeProvider.System);
            var revoked = await service.RevokeAsync(parse.GetValue(key)!, cancellationToken);
            if (revoked is null)
            {
                parse.InvocationConfiguration.Error.WriteLine($"error: no active key with id or name '{parse.GetValue(key)}'");
                return AirlockCli.Failure;
            }

            parse.InvocationConfiguration.Output.WriteLine($"Revoked API key '{revoked.Name}' (id {revoked.Id}).");
            if (await RecordAsync(store, AuditKinds.KeyRevoked, "revoked", revoked, cancellationToken) is { } auditError)
            {
                parse.InvocationConfiguration.Error.WriteLine($"error: the key is revoked, but the audit trail could not record it: {auditError}");
                return AirlockCli.Failure;
            }

            return 0;
        });
        return command;
    }

    /// <summary>Appends the admin action to the audit trail; the error, or null once it is durable.</summary>
    private static async Task<string?> RecordAsync(IAirlockStore store, string kind, string outcome, ApiKey key, CancellationToken cancellationToken)
    {
        try
        {
            // The CLI works on the store directly; the operator is whoever runs it here.
            var actor = new AuditActor($"local:{Environment.UserName}", [], "local");
            await store.AppendAuditEventsAsync([AuditTrail.ApiKeyEvent(kind, outcome, key, actor, TimeProvider.System.GetUtcNow())], cancellationToken);
            return null;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return $"{ex.GetType().Name}: {Printable.Text(ex.Message)}";
        }
    }

    private static string Groups(ApiKey key) => key.Groups.IsEmpty ? "-" : Printable.Text(string.Join(',', key.Groups));
}
