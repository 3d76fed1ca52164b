namespace Airlock.FunctionalTests.Docs;

/// <summary>One <c>$ command</c> of a Markdown <c>console</c> block and the output shown under it.</summary>
/// <param name="Line">The command's line in the Markdown file, for failure messages.</param>
internal sealed record ConsoleCommand(int Line, string Command, string Output);

/// <summary>
/// Reads the <c>```console</c> blocks of a Markdown page the way a reader does: a line starting
/// with <c>$ </c> is a command (continued on the next line while it ends with <c>\</c>), and the
/// lines up to the next command or the end of the block are what it prints.
/// </summary>
internal static class ConsoleBlocks
{
    public static IReadOnlyList<ConsoleCommand> Read(string markdown)
    {
        var commands = new List<ConsoleCommand>();
        var lines = markdown.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        var inBlock = false;
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            if (!inBlock)
            {
                inBlock = line.Trim() == "```console";
                continue;
            }

            if (line.Trim() == "```")
            {
                inBlock = false;
                continue;
            }

            if (!line.StartsWith("$ ", StringComparison.Ordinal))
            {
                // Output is read with its command below; only a block's leading text gets here.
                if (line.Trim().Length > 0)
                {
                    throw new FormatException($"line {i + 1}: text before the first command of a console block");
                }

                continue;
            }

            var start = i;
            var command = line[2..];
            while (command.EndsWith('\\') && i + 1 < lines.Length)
            {
                command += "\n" + lines[++i];
            }

            var output = new List<string>();
            while (i + 1 < lines.Length && !lines[i + 1].StartsWith("$ ", StringComparison.Ordinal) && lines[i + 1].Trim() != "```")
            {
                output.Add(lines[++i]);
            }

            commands.Add(new ConsoleCommand(start + 1, command, string.Join('\n', output).Trim()));
        }

        return commands;
    }
}
