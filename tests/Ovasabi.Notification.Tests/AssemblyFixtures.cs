[assembly: AssemblyFixture(typeof(Ovasabi.Notification.Tests.NotificationPlatform))]
