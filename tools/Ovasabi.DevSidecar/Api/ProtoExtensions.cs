using Google.Protobuf.Collections;

namespace Ovasabi.DevSidecar.Api;

public static class ProtoExtensions
{
    public static void AddAll(this MapField<string, string> map, IEnumerable<KeyValuePair<string, string>> entries)
    {
        foreach (var (key, value) in entries)
        {
            map[key] = value;
        }
    }
}
