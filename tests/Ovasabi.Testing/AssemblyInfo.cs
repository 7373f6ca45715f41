using System.Runtime.CompilerServices;

// The tests reach the tool-lookup and backend seams, which are not part of the public API.
[assembly: InternalsVisibleTo("Ovasabi.Testing.Tests")]
