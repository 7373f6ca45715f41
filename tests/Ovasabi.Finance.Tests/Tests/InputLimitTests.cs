using System.Collections;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using Ovasabi.Auth.V1;
using Ovasabi.Common.V1;
using Ovasabi.Finance.V1;
using Ovasabi.User.V1;
using static Ovasabi.Testing.Rpc;
using StatusCode = Grpc.Core.StatusCode;

namespace Ovasabi.Finance.Tests.Tests;

/// <summary>
/// Bad input never breaks the transport: every string, bytes and free-form field of every RPC of the user, auth and
/// finance services, found by walking the contracts' descriptors, is sent 1 MB long through the gateway by an
/// administrator and answered InvalidArgument naming the field, with a short message and small trailers (before, a 1 MB
/// currency code came back inside an error too big for the sidecar, which turned it into Unavailable).
/// </summary>
public sealed class InputLimitTests(SharedFinancePlatform platform)
{
    private static readonly string Megabyte = new('x', 1 << 20);

    private static readonly ServiceDescriptor[] Services = [UserService.Descriptor, AuthService.Descriptor, FinanceService.Descriptor];

    /// <summary>Every (RPC, field path) to try: strings, bytes, repeated and map entries, and free-form Structs, at any depth.</summary>
    public static TheoryData<string, string> Fields()
    {
        var data = new TheoryData<string, string>();
        foreach (var method in Services.SelectMany(s => s.Methods))
        {
            foreach (var path in Paths(method.InputType, "", depth: 0))
            {
                data.Add($"{method.Service.Name}/{method.Name}", path);
            }
        }
        return data;
    }

    [Fact]
    public void Every_RPC_of_the_three_services_has_a_field_to_try_or_takes_none()
    {
        var without = Services.SelectMany(s => s.Methods).Where(m => !Paths(m.InputType, "", 0).Any()).Select(m => m.Name).Order().ToList();

        // Only requests without a string field at all (Empty) have nothing to try.
        Assert.All(Services.SelectMany(s => s.Methods).Where(m => without.Contains(m.Name)), m => Assert.Equal(Empty.Descriptor, m.InputType));
        Assert.True(Fields().Count > 60, $"only {Fields().Count} fields found");
    }

    [Theory]
    [MemberData(nameof(Fields))]
    public async Task A_one_megabyte_field_is_InvalidArgument_naming_it_with_a_short_error(string rpc, string path)
    {
        var method = Services.SelectMany(s => s.Methods).Single(m => $"{m.Service.Name}/{m.Name}" == rpc);
        var request = (IMessage)Activator.CreateInstance(method.InputType.ClrType)!;
        Fill(request, path.Split('.'));
        var invoker = platform.InvokerVia(platform.GatewaySidecar, method.Service.FullName.Split('.')[1], platform.Admin.AccessToken);
        var call = new Method<IMessage, IMessage>(MethodType.Unary, method.Service.FullName, method.Name, Marshaller(method.InputType.Parser), Marshaller(method.OutputType.Parser));

        var error = await Assert.ThrowsAsync<RpcException>(async () => await invoker.AsyncUnaryCall(call, null, new CallOptions(cancellationToken: Cancel), request));

        Assert.True(error.StatusCode == StatusCode.InvalidArgument, $"{rpc} {path}: {error.StatusCode} {error.Status.Detail[..Math.Min(200, error.Status.Detail.Length)]}");
        var violation = Assert.Single(error.GetRpcStatus()!.GetDetail<BadRequest>().FieldViolations);
        Assert.Equal(path.Replace(".#", "", StringComparison.Ordinal).Replace("#", "", StringComparison.Ordinal), violation.Field.Replace("[0]", "", StringComparison.Ordinal));
        Assert.True(error.Status.Detail.Length < 600, $"a {error.Status.Detail.Length}-character message");
        Assert.True(error.Trailers.Sum(t => t.Key.Length + (t.IsBinary ? t.ValueBytes.Length : t.Value.Length)) < 8 * 1024, "trailers over 8 KiB");
    }

    [Fact]
    public async Task A_transfer_with_a_one_megabyte_currency_is_InvalidArgument_and_moves_nothing()
    {
        var (from, to) = (await platform.NewUserIdAsync(), await platform.NewUserIdAsync());
        await platform.FundAsync(from, 5_00);

        await InvalidAsync("amount.currency_code", () => platform.FinanceAsAdmin().TransferAsync(new TransferRequest
        {
            IdempotencyKey = Guid.NewGuid().ToString(), FromUserId = from, ToUserId = to, Amount = new Money { CurrencyCode = Megabyte, MinorUnits = 1_00 },
        }, cancellationToken: Cancel));

        var balance = await platform.FinanceAsAdmin().GetBalanceAsync(new GetBalanceRequest { UserId = from, CurrencyCode = "EUR" }, cancellationToken: Cancel);
        Assert.Equal(5_00, balance.Available.MinorUnits);
    }

    /// <summary>
    /// Field paths to fill: dotted names; a trailing <c>#</c> marks a repeated field or map (one entry is added; for a map,
    /// its value).
    /// </summary>
    private static IEnumerable<string> Paths(MessageDescriptor message, string prefix, int depth)
    {
        foreach (var field in message.Fields.InDeclarationOrder())
        {
            var path = prefix + field.Name;
            if (field.FieldType is FieldType.String or FieldType.Bytes)
            {
                yield return field.IsRepeated ? path + "#" : path;
            }
            else if (field.IsMap && field.MessageType.FindFieldByNumber(2).FieldType == FieldType.String)
            {
                yield return path + "#";
            }
            else if (field.FieldType == FieldType.Message && !field.IsRepeated && field.MessageType == Struct.Descriptor)
            {
                yield return path;
            }
            else if (field.FieldType == FieldType.Message && !field.IsRepeated && !field.IsMap && depth < 3)
            {
                foreach (var nested in Paths(field.MessageType, path + ".", depth + 1))
                {
                    yield return nested;
                }
            }
        }
    }

    private static void Fill(IMessage message, string[] path)
    {
        var name = path[0].TrimEnd('#');
        var field = message.Descriptor.FindFieldByName(name);
        if (path.Length > 1)
        {
            var nested = (IMessage?)field.Accessor.GetValue(message) ?? (IMessage)Activator.CreateInstance(field.MessageType.ClrType)!;
            Fill(nested, path[1..]);
            field.Accessor.SetValue(message, nested);
        }
        else if (field.IsMap)
        {
            ((IDictionary)field.Accessor.GetValue(message)).Add("key", Megabyte);
        }
        else if (field.IsRepeated)
        {
            ((IList)field.Accessor.GetValue(message)).Add(field.FieldType == FieldType.Bytes ? ByteString.CopyFromUtf8(Megabyte) : Megabyte);
        }
        else if (field.FieldType == FieldType.Message)
        {
            field.Accessor.SetValue(message, new Struct { Fields = { ["note"] = Value.ForString(Megabyte) } });
        }
        else
        {
            field.Accessor.SetValue(message, field.FieldType == FieldType.Bytes ? ByteString.CopyFromUtf8(Megabyte) : Megabyte);
        }
    }

    private static Marshaller<IMessage> Marshaller(MessageParser parser) => Marshallers.Create<IMessage>(m => m.ToByteArray(), parser.ParseFrom);
}
