namespace Airlock.FunctionalTests.Docs;

/// <summary>What the README tour test lets differ, and what it does not.</summary>
public sealed class OutputShapeTests
{
    private const string Shown = """
        SESSION                               STARTED                   STATUS       MS  DECISION                 MASKED
        01a20d39-44c0-7361-856c-28497a44d5ea  2026-11-24T11:03:06.688Z     202     21.6  review by large-refunds       0
        Checked 31 events (1..31) in 0.018 s (1,722 events/s).
        ...
        Head: sha256:cfe806b6…
        """;

    [Fact]
    public void Ids_times_durations_counts_layout_and_elided_lines_may_differ_and_ids_are_carried_to_commands()
    {
        var shape = new OutputShape();
        const string Printed = """
            SESSION STARTED STATUS MS DECISION MASKED
            01a24e2a-1580-7871-83b4-a32b0ea3275a 2026-12-07T01:41:50.592Z 202 2028.5 review by large-refunds 0
            Checked 9 events (1..9) in 0.2 s (45 events/s).
              checkpoint at event 4: signature valid, head hash matches
              checkpoint at event 9: signature valid, head hash matches
            Head: sha256:8cc7bda2cff584932d0d56924920152835c2b86310a8eb3bb86fee60214e3475
            """;

        Assert.True(shape.Matches(Shown, Printed, out var difference), difference);
        Assert.Equal("./airlock sessions show 01a24e2a-1580-7871-83b4-a32b0ea3275a", shape.Command("./airlock sessions show 01a20d39-44c0-7361-856c-28497a44d5ea"));
    }

    [Theory]
    [InlineData("Z     202", "Z     403", "a status")]
    [InlineData("review by large-refunds       0", "review by large-refunds", "a column")]
    [InlineData("Head: sha256:cfe806b6…", "Head: sha512:cfe806b6", "a word")]
    public void What_the_page_shows_literally_must_be_there(string shown, string printed, string what)
    {
        var run = Shown.Replace("2026-11-24T11:03:06.688Z", "2026-12-07T01:41:50.592Z", StringComparison.Ordinal).Replace(shown, printed, StringComparison.Ordinal);

        Assert.False(new OutputShape().Matches(Shown, run, out var difference), what);
        Assert.StartsWith("expected next: ", difference, StringComparison.Ordinal);
    }

    [Fact]
    public void An_id_the_page_shows_twice_must_be_the_same_id_twice()
    {
        var shape = new OutputShape();
        Assert.True(shape.Matches("Review 01a20d55-a5bf-77cb-bf08-52b42b75e03e is pending.", "Review 01a24e29-a29c-7153-8a1b-7e2a8169e5d1 is pending.", out _));

        Assert.False(shape.Matches("Review 01a20d55-a5bf-77cb-bf08-52b42b75e03e is approved.", "Review 01a24e29-3c15-7144-b305-6d96714f8c35 is approved.", out _));
        Assert.False(shape.Matches("Review 01a20d55-0000-77cb-bf08-52b42b75e03e is new.", "Review 01a24e29-a29c-7153-8a1b-7e2a8169e5d1 is new.", out var reused));
        Assert.Contains("showed that id as 01a20d55-a5bf-77cb-bf08-52b42b75e03e before", reused, StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(() => shape.Command("./airlock reviews show 01a20d55-ffff-77cb-bf08-52b42b75e03e"));
    }

    [Fact]
    public void Console_blocks_give_each_command_with_its_continuation_lines_and_its_output()
    {
        var commands = ConsoleBlocks.Read("""
            Text.

            ```console
            $ curl -s -H "A: b" \
                -d '{}' http://127.0.0.1:8080/x
            {"ok":true}

            $ ./airlock keys list
            ```

            ```bash
            $ not a tour command
            ```
            """);

        Assert.Equal(2, commands.Count);
        Assert.Equal((4, "curl -s -H \"A: b\" \\\n    -d '{}' http://127.0.0.1:8080/x", "{\"ok\":true}"), (commands[0].Line, commands[0].Command, commands[0].Output));
        Assert.Equal(("./airlock keys list", ""), (commands[1].Command, commands[1].Output));
    }
}
