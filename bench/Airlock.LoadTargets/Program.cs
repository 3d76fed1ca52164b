// The parts bench/load.sh measures Airlock against, one process each:
//   upstream --port P          the real upstream every target forwards to
//   yarp --port P --upstream U a bare YARP proxy: Kestrel + IHttpForwarder, nothing else
// Each prints "listening on http://127.0.0.1:PORT" once it is ready.
using Airlock.LoadTargets;

var mode = args.Length > 0 ? args[0] : "";
var port = Option("--port") is { } p ? int.Parse(p, System.Globalization.CultureInfo.InvariantCulture) : 0;
switch (mode)
{
    case "upstream":
        await LoadUpstream.RunAsync(port);
        return 0;
    case "yarp":
        await BareYarp.RunAsync(port, new Uri(Option("--upstream") ?? throw new ArgumentException("yarp needs --upstream")));
        return 0;
    default:
        Console.Error.WriteLine("usage: upstream --port P | yarp --port P --upstream URL");
        return 2;
}

string? Option(string name)
{
    var at = Array.IndexOf(args, name);
    return at >= 0 && at + 1 < args.Length ? args[at + 1] : null;
}
