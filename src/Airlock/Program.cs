using Airlock.Cli;

return await AirlockCli.RunAsync(args, Console.Out, Console.Error);
