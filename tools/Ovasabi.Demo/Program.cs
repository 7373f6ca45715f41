using Ovasabi.Demo;

var command = new DemoCommand();
command.Root.SetAction(async (parse, cancellationToken) =>
{
    DemoOptions options;
    try
    {
        options = command.Bind(parse);
    }
    catch (ArgumentException e)
    {
        await Console.Error.WriteLineAsync($"invalid option: {e.Message}");
        return 2;
    }
    return await Scenario.RunAsync(options, Console.Out, cancellationToken);
});
return await command.Root.Parse(args).InvokeAsync();
