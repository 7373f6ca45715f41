[assembly: AssemblyFixture(typeof(Ovasabi.Sample.Tests.SamplePlatform))]
