using System.IO.Compression;
using System.Net;
using Airlock.Cli;
using Airlock.FunctionalTests.Infrastructure;
using Airlock.Gateway.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.Playwright;

namespace Airlock.FunctionalTests.Console;

/// <summary>The audit page: an auditor verifies the trail on demand (a form post) and sees it
/// intact, then broken at the event someone with database access changed; approvers have no
/// audit page.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class ConsoleAuditTests(ChromiumFixture chromium)
{
    [Fact]
    public async Task An_auditor_verifies_the_trail_from_the_page_and_sees_where_a_changed_event_breaks_it()
    {
        await using var host = await ConsoleHost.StartAsync();
        using (var read = await host.Gateway.Proxy.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/billing/v1/customers")
        {
            Headers = { Authorization = new("Bearer", host.AgentKey) },
        }))
        {
            Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        }

        await using var browser = await chromium.NewContextAsync();
        var audrey = await host.OpenAsync(browser, "/", signInAs: "audrey");
        await audrey.ClickAsync("nav >> text=Audit");
        await Assertions.Expect(audrey.Locator("h1")).ToHaveTextAsync("Audit trail");
        await Assertions.Expect(audrey.Locator(".verification")).ToHaveCountAsync(0);

        var events = await host.Gateway.Store.QueryAuditEventsAsync(new AuditQuery(), CancellationToken.None);
        await audrey.ClickAsync("#verify");
        await Assertions.Expect(audrey.Locator(".verification .notice-ok")).ToContainTextAsync("The audit trail is intact.");
        await Assertions.Expect(audrey.Locator(".verification .notice-ok")).ToContainTextAsync($"Checked {events.Count} events");
        await Assertions.Expect(audrey.Locator(".verification .hash")).ToHaveTextAsync(events[^1].Hash);

        // Someone with database access turns the record of a read into one of a delete.
        var readEvent = events.Last(e => e.Actor?.Subject == "key:billing-agent");
        await using (var db = new SqliteConnection($"Data Source={Path.Combine(host.Gateway.Directory, "airlock.db")}"))
        {
            await db.OpenAsync();
            var edit = db.CreateCommand();
            edit.CommandText = "UPDATE audit_events SET event = CAST(replace(CAST(event AS TEXT), '\"GET\"', '\"DELETE\"') AS BLOB) WHERE seq = $seq";
            edit.Parameters.AddWithValue("$seq", readEvent.Seq);
            Assert.Equal(1, await edit.ExecuteNonQueryAsync());
        }

        await audrey.ClickAsync("#verify");
        await Assertions.Expect(audrey.Locator(".verification .notice-error")).ToContainTextAsync(
            $"The audit trail is broken at event {readEvent.Seq}: event {readEvent.Seq} was changed");
        await ConsoleHost.ScreenshotAsync(audrey, "audit-broken");

        // Verification is a post from the page: a form from elsewhere does nothing.
        var forged = await audrey.APIRequest.PostAsync(new Uri(host.Url, "/audit/verify").ToString(), new() { Form = audrey.APIRequest.CreateFormData() });
        Assert.Equal(400, forged.Status);
    }

    [Fact]
    public async Task An_auditor_downloads_the_evidence_bundle_and_it_verifies_offline()
    {
        await using var host = await ConsoleHost.StartAsync();
        using (var read = await host.Gateway.Proxy.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/billing/v1/customers")
        {
            Headers = { Authorization = new("Bearer", host.AgentKey) },
        }))
        {
            Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        }

        await using var browser = await chromium.NewContextAsync();
        var audrey = await host.OpenAsync(browser, "/audit", signInAs: "audrey");
        var events = await host.Gateway.Store.QueryAuditEventsAsync(new AuditQuery(), CancellationToken.None);
        var download = await audrey.RunAndWaitForDownloadAsync(() => audrey.ClickAsync("#export"));
        Assert.EndsWith($"-1-{events[^1].Seq}.zip", download.SuggestedFilename, StringComparison.Ordinal);

        var directory = Directory.CreateTempSubdirectory("airlock-evidence-").FullName;
        try
        {
            var zip = Path.Combine(directory, "evidence.zip");
            await download.SaveAsAsync(zip);
            var bundle = Path.Combine(directory, "bundle");
            await ZipFile.ExtractToDirectoryAsync(zip, bundle);
            Assert.Equal(events.Count, (await File.ReadAllLinesAsync(Path.Combine(bundle, "events.jsonl"))).Length);
            Assert.True(File.Exists(Path.Combine(bundle, "events.csv")));

            var stdout = new StringWriter();
            var stderr = new StringWriter();
            var exit = await AirlockCli.RunAsync(["audit", "verify", "--file", bundle], stdout, stderr);
            Assert.True(exit == 0, $"{stdout}{stderr}");
            Assert.Contains("intact", stdout.ToString(), StringComparison.Ordinal);

            // A changed line in the downloaded bundle is caught offline.
            var lines = await File.ReadAllLinesAsync(Path.Combine(bundle, "events.jsonl"));
            lines[^1] = lines[^1].Replace("\"GET\"", "\"DELETE\"", StringComparison.Ordinal);
            await File.WriteAllLinesAsync(Path.Combine(bundle, "events.jsonl"), lines);
            Assert.NotEqual(0, await AirlockCli.RunAsync(["audit", "verify", "--file", bundle], new StringWriter(), new StringWriter()));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }

        // A download from a form elsewhere gets nothing.
        var forged = await audrey.APIRequest.PostAsync(new Uri(host.Url, "/audit/export").ToString(), new() { Form = audrey.APIRequest.CreateFormData() });
        Assert.Equal(400, forged.Status);
    }

    [Fact]
    public async Task An_approver_has_no_audit_page()
    {
        await using var host = await ConsoleHost.StartAsync();
        await using var browser = await chromium.NewContextAsync();
        var alice = await host.OpenAsync(browser, "/", signInAs: "alice");
        await Assertions.Expect(alice.Locator("header.bar nav a")).ToHaveTextAsync(["Inbox", "Grants"]);

        var response = await alice.GotoAsync(new Uri(host.Url, "/audit").ToString());
        Assert.Equal(403, response!.Status);
        await Assertions.Expect(alice.Locator("h1")).ToHaveTextAsync("For auditors and admins");
        var token = await alice.Locator("form.signout input[name=__RequestVerificationToken]").GetAttributeAsync("value");
        var form = alice.APIRequest.CreateFormData();
        form.Set("__RequestVerificationToken", token!);
        var verify = await alice.APIRequest.PostAsync(new Uri(host.Url, "/audit/verify").ToString(), new() { Form = form });
        Assert.Equal(403, verify.Status);
        var export = await alice.APIRequest.PostAsync(new Uri(host.Url, "/audit/export").ToString(), new() { Form = form });
        Assert.Equal(403, export.Status);
        Assert.NotEqual("application/zip", export.Headers.GetValueOrDefault("content-type"));
    }
}
