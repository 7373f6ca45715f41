using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Ovasabi.User.Domain;

namespace Ovasabi.User.UnitTests;

public sealed class PasswordHasherTests(ITestOutputHelper output)
{
    // Known answers from the Argon2 reference implementation's command-line tool (Debian package "argon2"), e.g.
    //   printf 'pässwörd' | argon2 ovasabi-salt-16b -id -k 19456 -t 2 -p 1 -l 32 -e
    // They pin the encoding (UTF-8 of the NFC/NFKC text) and the PHC format to what other implementations produce.
    private const string ReferenceAtOwaspMinimum =
        "$argon2id$v=19$m=19456,t=2,p=1$b3Zhc2FiaS1zYWx0LTE2Yg$XLx3aDrwaWMAuc7UE+gnUBj1nice+bbiqXEUGKfLsbk";
    private const string ReferencePassword = "pässwörd";

    private const string ReferenceAt16MiB =
        "$argon2id$v=19$m=16384,t=2,p=1$b3Zhc2FiaS1zYWx0LTE2Yg$V60BCOFviFf3qapaHwrrliNvYTdvFTWPnO/UBh4iJeQ";
    private const string ReferenceAt16MiBPassword = "correct horse battery staple";

    private static readonly PasswordHasher Hasher = new();

    // The cheapest cost libsodium accepts, for tests about the format rather than the cost.
    private static readonly PasswordHasher Cheap = new(new Argon2Cost(MemoryKiB: 8, Passes: 1, Parallelism: 1));

    [Fact]
    public void A_hash_is_a_phc_string_at_the_owasp_minimum_with_a_16_byte_salt_and_32_byte_hash()
    {
        var phc = Hasher.Hash("correct horse battery staple");

        // 16 bytes are 22 base64 characters without padding; 32 bytes are 43.
        Assert.Matches(new Regex(@"^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}\z"), phc);
        Assert.True(PasswordHasher.TryParse(phc, out var parsed));
        Assert.Equal(Argon2Cost.OwaspMinimum, parsed.Cost);
        Assert.Equal(16, parsed.Salt.Length);
        Assert.Equal(32, parsed.Hash.Length);
    }

    [Fact]
    public void The_right_password_verifies_and_a_wrong_one_does_not()
    {
        var phc = Hasher.Hash("correct horse battery staple");

        Assert.True(Hasher.Verify("correct horse battery staple", phc));
        Assert.False(Hasher.Verify("correct horse battery stapler", phc));
        Assert.False(Hasher.Verify("Correct horse battery staple", phc));
        Assert.False(Hasher.Verify("", phc));
    }

    [Fact]
    public void Hashing_the_same_password_twice_gives_different_salts_and_both_verify()
    {
        var first = Cheap.Hash("same password");
        var second = Cheap.Hash("same password");

        Assert.NotEqual(first, second);
        Assert.True(Cheap.Verify("same password", first));
        Assert.True(Cheap.Verify("same password", second));
    }

    [Fact]
    public void A_hash_from_the_reference_implementation_verifies()
    {
        Assert.True(Hasher.Verify(ReferencePassword, ReferenceAtOwaspMinimum));
        Assert.False(Hasher.Verify("passwörd", ReferenceAtOwaspMinimum));
    }

    [Fact]
    public void The_password_is_compared_after_nfkc_so_decomposed_accents_match_composed_ones()
    {
        // "pa" + U+0308 COMBINING DIAERESIS ... is the same text as "pässwörd", typed differently.
        Assert.True(Hasher.Verify("pa\u0308sswo\u0308rd", ReferenceAtOwaspMinimum));
    }

    [Fact]
    public void A_password_in_fullwidth_letters_verifies_against_its_ascii_hash()
    {
        var phc = Cheap.Hash("password1234");

        Assert.True(Cheap.Verify("ｐａｓｓｗｏｒｄ１２３４", phc));
    }

    [Fact]
    public void Spaces_around_a_password_are_part_of_it()
    {
        var phc = Cheap.Hash("password1234");

        Assert.False(Cheap.Verify(" password1234", phc));
        Assert.False(Cheap.Verify("password1234 ", phc));
    }

    [Fact]
    public void Verify_uses_the_cost_written_in_the_string_not_the_current_one()
    {
        Assert.True(Hasher.Verify(ReferenceAt16MiBPassword, ReferenceAt16MiB));
        Assert.True(Hasher.Verify("cheap", Cheap.Hash("cheap")));
    }

    public static TheoryData<string> MalformedHashes()
    {
        const string good = ReferenceAtOwaspMinimum;
        const string salt = "b3Zhc2FiaS1zYWx0LTE2Yg";
        const string hash = "XLx3aDrwaWMAuc7UE+gnUBj1nice+bbiqXEUGKfLsbk";
        return
        [
            "",
            "not a hash",
            good.Replace("$argon2id$", "$argon2i$"),
            good.Replace("$v=19$", "$v=16$"),
            good.Replace("$v=19", ""),
            good.Replace("m=19456,t=2,p=1", "t=2,m=19456,p=1"),
            good.Replace("m=19456,t=2,p=1", "m=19456,t=2"),
            good.Replace("p=1", "p=2"),
            good.Replace("m=19456", "m=7"),
            good.Replace("m=19456", "m=019456"),
            good.Replace("m=19456", "m=-19456"),
            good.Replace("m=19456", "m=99999999999"),
            good.Replace("m=19456", "m=2097152"), // 2 GiB: above the ceiling
            good.Replace("t=2", "t=0"),
            good.Replace("t=2", "t=33"),
            good.Replace(salt, "b3Zhc2FiaS1zYWx0"), // 12-byte salt
            good.Replace(salt, salt + "=="),
            good.Replace(salt, salt.Replace('Z', '-')), // base64url, not base64
            good.Replace(salt, salt.Insert(4, " ")),
            good.Replace(hash, hash[..16]), // 12-byte hash
            good.Replace(hash, (hash + hash + hash)[..128]), // 96-byte hash
            good + "$extra",
            good + "\n",
            " " + good,
        ];
    }

    [Theory]
    [MemberData(nameof(MalformedHashes))]
    public void A_malformed_or_unsupported_string_verifies_false_and_needs_a_rehash(string phc)
    {
        Assert.False(PasswordHasher.TryParse(phc, out _));
        Assert.False(Hasher.Verify(ReferencePassword, phc));
        Assert.True(Hasher.NeedsRehash(phc));
    }

    [Fact]
    public void TryParse_reads_cost_salt_and_hash()
    {
        Assert.True(PasswordHasher.TryParse(ReferenceAt16MiB, out var parsed));

        Assert.Equal(new Argon2Cost(16384, 2, 1), parsed.Cost);
        Assert.Equal("ovasabi-salt-16b", Encoding.ASCII.GetString(parsed.Salt));
        Assert.Equal(32, parsed.Hash.Length);
    }

    [Fact]
    public void A_hash_at_the_current_cost_needs_no_rehash()
    {
        Assert.False(Hasher.NeedsRehash(ReferenceAtOwaspMinimum));
    }

    [Theory]
    [InlineData("m=16384,t=2,p=1")] // less memory
    [InlineData("m=19456,t=1,p=1")] // fewer passes
    [InlineData("m=65536,t=1,p=1")] // more memory does not make up for fewer passes
    public void A_hash_with_less_memory_or_fewer_passes_needs_a_rehash(string parameters)
    {
        Assert.True(Hasher.NeedsRehash(ReferenceAtOwaspMinimum.Replace("m=19456,t=2,p=1", parameters)));
    }

    [Fact]
    public void A_hash_at_a_higher_cost_needs_no_rehash()
    {
        Assert.False(Hasher.NeedsRehash(ReferenceAtOwaspMinimum.Replace("m=19456,t=2", "m=65536,t=3")));
    }

    [Fact]
    public void A_shorter_hash_than_current_needs_a_rehash()
    {
        // 16 bytes: 22 base64 characters.
        var shortHash = ReferenceAtOwaspMinimum[..ReferenceAtOwaspMinimum.LastIndexOf('$')] + "$AAAAAAAAAAAAAAAAAAAAAA";

        Assert.True(PasswordHasher.TryParse(shortHash, out _));
        Assert.True(Hasher.NeedsRehash(shortHash));
    }

    [Fact]
    public void Raising_the_cost_makes_todays_hashes_need_a_rehash()
    {
        var raised = new PasswordHasher(new Argon2Cost(19456, 3, 1));

        Assert.True(raised.NeedsRehash(ReferenceAtOwaspMinimum));
        Assert.True(raised.Verify(ReferencePassword, ReferenceAtOwaspMinimum));
    }

    [Theory]
    [InlineData(19456, 2, 2)] // libsodium has a single lane
    [InlineData(4, 2, 1)]
    [InlineData(19456, 0, 1)]
    [InlineData(2 * 1024 * 1024, 1, 1)]
    public void A_cost_libsodium_or_the_ceiling_refuses_is_rejected_up_front(int memoryKiB, int passes, int lanes)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new PasswordHasher(new Argon2Cost(memoryKiB, passes, lanes)));
    }

    [Fact]
    public void A_lone_surrogate_cannot_be_hashed_and_never_verifies()
    {
        var phc = Cheap.Hash("password\uFFFD");

        Assert.Throws<ArgumentException>(() => Cheap.Hash("password\uD800"));
        Assert.False(Cheap.Verify("password\uD800", phc));
    }

    [Fact]
    public void Verify_can_run_on_many_threads_at_once()
    {
        var phc = Cheap.Hash("shared");

        var results = Enumerable.Range(0, 32).AsParallel().Select(i => Cheap.Verify(i % 2 == 0 ? "shared" : "other", phc)).ToList();

        Assert.Equal(16, results.Count(r => r));
    }

    [Fact]
    public void VerifyAgainstDummy_does_a_full_verification_at_the_current_cost()
    {
        var elapsed = Stopwatch.StartNew();
        Hasher.VerifyAgainstDummy("some password");
        output.WriteLine($"dummy verification: {elapsed.Elapsed.TotalMilliseconds:F1} ms");

        // What VerifyAgainstDummy checks against: a well-formed hash at the current cost, so the work is the same.
        Assert.True(PasswordHasher.TryParse(Hasher.DummyPhc, out var dummy));
        Assert.Equal(Hasher.Cost, dummy.Cost);
        Assert.Equal(PasswordHasher.HashBytes, dummy.Hash.Length);
        Assert.NotEqual(new PasswordHasher().DummyPhc, Hasher.DummyPhc);
    }

    [Fact]
    public void Hashing_once_at_the_owasp_minimum_is_measured_for_the_record()
    {
        Hasher.Hash("warm-up"); // loads libsodium

        var elapsed = Stopwatch.StartNew();
        var phc = Hasher.Hash("correct horse battery staple");
        var hashed = elapsed.Elapsed;
        elapsed.Restart();
        var verified = Hasher.Verify("correct horse battery staple", phc);
        var checkedIn = elapsed.Elapsed;

        output.WriteLine($"Argon2id {Hasher.Cost}: hash {hashed.TotalMilliseconds:F1} ms, verify {checkedIn.TotalMilliseconds:F1} ms");
        Assert.True(verified);
    }
}
