using Ovasabi.Scaffold;

// ovasabi-new-service <name> [--root <repository>]
if (args.Length is not (1 or 3) || (args.Length == 3 && args[1] != "--root"))
{
    Console.Error.WriteLine("usage: ovasabi-new-service <name> [--root <repository>]   (make new-service NAME=<name>)");
    return 2;
}
var root = args.Length == 3 ? Path.GetFullPath(args[2]) : Directory.GetCurrentDirectory();
try
{
    var service = new NewService(root, args[0]);
    foreach (var step in service.Create())
    {
        Console.WriteLine($"  {step}");
    }
    Console.WriteLine($"""

        apps/{service.Name} is ready. Next:
          dotnet build ovasabi-dapr.sln -c Release && make test-fast   build it and run its unit tests
          make test                          every test; the authorization matrices fail until their app:{service.Name} column is decided
          make run                           the platform with {service.Name} (ports {service.Ports})
        Then replace the item with the service's own entities (protos/ovasabi/{service.Name}/v1) and grant what it calls in
        protos/ovasabi/access.yaml.
        """);
    return 0;
}
catch (ScaffoldException e)
{
    Console.Error.WriteLine($"new-service: {e.Message}");
    return 1;
}
