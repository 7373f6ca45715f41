using Grpc.Core;
using Ovasabi.Notification.Domain;
using Ovasabi.Notification.V1;
using Ovasabi.ServiceDefaults.Grpc;
using Ovasabi.ServiceDefaults.Security;

namespace Ovasabi.Notification.Grpc;

/// <summary>The preference RPCs of the notification API: a user's own preferences, and the unsubscribe link.</summary>
public sealed partial class NotificationGrpcService
{
    [Permission("notification.preferences.read", Owner = "user_id", EmptyOwnerIsCaller = true)]
    public override async Task<NotificationPreferences> GetPreferences(GetPreferencesRequest request, ServerCallContext context)
    {
        var validator = new Validator();
        var userId = context.GetCaller().TargetUser(validator, "user_id", request.UserId);
        validator.ThrowIfInvalid();
        var person = await ExistingAsync(userId, context.CancellationToken);
        return Map(userId, await preferences.GetAsync(userId, context.CancellationToken), person);
    }

    [Permission("notification.preferences.update", Owner = "user_id", EmptyOwnerIsCaller = true)]
    public override async Task<NotificationPreferences> UpdatePreferences(UpdatePreferencesRequest request, ServerCallContext context)
    {
        var validator = new Validator();
        var userId = context.GetCaller().TargetUser(validator, "user_id", request.UserId);
        validator.Check("expected_version", request.ExpectedVersion >= 0, "must be the version last read (0 before anything was stored)");
        var paths = request.UpdateMask?.Paths.ToList() ?? [];
        validator.Check("update_mask", paths.Count > 0, "name at least one field to change");
        for (var i = 0; i < paths.Count; i++)
        {
            validator.Check($"update_mask.paths[{i}]", PreferenceRules.UpdatablePaths.Contains(paths[i]),
                $"'{ErrorText.Quote(paths[i])}' cannot be updated (allowed: {string.Join(", ", PreferenceRules.UpdatablePaths)})");
        }
        var sent = request.Preferences ?? new NotificationPreferences();
        var change = new PreferenceChange(
            paths.Contains("global_mute") ? sent.GlobalMute : null,
            paths.Contains("quiet_hours"),
            paths.Contains("quiet_hours") ? PreferenceRules.QuietHours(validator, "preferences.quiet_hours", sent.QuietHours?.Start ?? "", sent.QuietHours?.End ?? "") : null,
            paths.Contains("time_zone") ? PreferenceRules.TimeZone(validator, "preferences.time_zone", sent.TimeZone) : null,
            paths.Contains("locale") ? PreferenceRules.Locale(validator, "preferences.locale", sent.Locale) : null,
            paths.Contains("rules")
                ? PreferenceRules.Rules(validator, "preferences.rules", [.. sent.Rules.Select(r => (r.Category, ChannelNames.Preferable(r.Channel), r.Enabled))])
                : null,
            paths.Contains("sms_number") ? PreferenceRules.SmsNumber(validator, "preferences.sms_number", sent.SmsNumber) : null);
        validator.ThrowIfInvalid();
        var person = await ExistingAsync(userId, context.CancellationToken);
        return Map(userId, await preferences.UpdateAsync(userId, request.ExpectedVersion, change, context.CancellationToken), person);
    }

    [Anonymous]
    public override async Task<UnsubscribeResponse> Unsubscribe(UnsubscribeRequest request, ServerCallContext context)
    {
        var validator = new Validator();
        validator.Required("token", request.Token);
        validator.ThrowIfInvalid();
        var grant = links.Read(request.Token, time.GetUtcNow()) ?? throw new InvalidArgumentException("token", "is not a valid unsubscribe link");
        await preferences.UnsubscribeAsync(grant, UnsubscribeLinks.UseKey(request.Token), context.CancellationToken);
        return new UnsubscribeResponse { Category = grant.Category, Channel = ChannelNames.ToProto(grant.Channel) };
    }

    private async Task<Recipient> ExistingAsync(Guid userId, CancellationToken cancellationToken) =>
        await recipients.FindAsync(userId, cancellationToken) ?? throw new NotFoundException("user", userId.ToString());

    /// <summary>Every category on every channel, what is not stored shown as on, and the zone and locale in use.</summary>
    private static NotificationPreferences Map(Guid userId, Preferences stored, Recipient person)
    {
        var mapped = new NotificationPreferences
        {
            UserId = userId.ToString(),
            GlobalMute = stored.GlobalMute,
            TimeZone = stored.TimeZone ?? "",
            Locale = stored.Locale ?? "",
            SmsNumber = stored.SmsNumber ?? "",
            Version = stored.Version,
            EffectiveTimeZone = stored.Zone(person.TimeZone).Id,
            EffectiveLocale = stored.Locale ?? person.Locale ?? TemplateCatalog.DefaultLocale,
        };
        if (stored.QuietHours is { } quiet)
        {
            mapped.QuietHours = new V1.QuietHours { Start = Domain.QuietHours.Format(quiet.Start), End = Domain.QuietHours.Format(quiet.End) };
        }
        foreach (var category in Category.All)
        {
            mapped.Categories.Add(new CategoryInfo { Name = category.Name, Critical = category.Critical });
            foreach (var channel in Preferences.Channels)
            {
                var rule = stored.Rule(category.Name, channel);
                mapped.Rules.Add(new CategoryChannelRule
                {
                    Category = category.Name,
                    Channel = ChannelNames.ToProto(channel),
                    Enabled = category.Critical || rule?.Enabled != false,
                    Locked = category.Critical,
                    Source = rule?.Source ?? "",
                });
            }
        }
        return mapped;
    }
}
