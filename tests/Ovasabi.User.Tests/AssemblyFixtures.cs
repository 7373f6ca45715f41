[assembly: AssemblyFixture(typeof(Ovasabi.User.Tests.Service.SharedUserPlatform))]
