import ChartSyncTestSupport
import Foundation
import Testing
@testable import ChartSyncCore

// Tables below are ported from Masterminds/semver v3 version_test.go and collection_test.go,
// plus the shared fixture versions.tsv (checked against the library by the fixture authors).

/// One row of semver/versions.tsv.
struct VersionRow: Sendable, CustomTestStringConvertible {
    let version: String
    let validLenient: Bool
    let validStrict: Bool
    var testDescription: String { version.debugDescription }

    static let all: [VersionRow] = Fixtures.rows("semver/versions.tsv").compactMap { fields in
        guard fields.count >= 3 else { return nil }
        return VersionRow(version: fields[0], validLenient: fields[1] == "true", validStrict: fields[2] == "true")
    }
}

private func parses(_ text: String) -> Bool { (try? SemanticVersion(parsing: text)) != nil }
private func parsesStrictly(_ text: String) -> Bool { (try? SemanticVersion.strict(text)) != nil }
private func v(_ text: String) throws -> SemanticVersion { try SemanticVersion(parsing: text) }

@Suite("SemanticVersion")
struct SemanticVersionTests {
    // MARK: Fixture

    @Test func versionsFixtureIsPresent() {
        #expect(VersionRow.all.count == 42, "versions.tsv not found or changed under \(Fixtures.root)")
    }

    @Test(arguments: VersionRow.all)
    func versionsFixture(_ row: VersionRow) {
        #expect(parses(row.version) == row.validLenient, "NewVersion(\(row.version.debugDescription))")
        #expect(parsesStrictly(row.version) == row.validStrict, "StrictNewVersion(\(row.version.debugDescription))")
    }

    // MARK: Parsing (TestNewVersion / TestStrictNewVersion)

    @Test(arguments: [
        ("1.2.3", true), ("1.2.3-alpha.01", false), ("1.2.3+test.01", true), ("1.2.3-alpha.-1", true),
        ("v1.2.3", true), ("1.0", true), ("v1.0", true), ("1", true), ("v1", true),
        ("1.2.beta", false), ("v1.2.beta", false), ("foo", false),
        ("1.2-5", true), ("v1.2-5", true), ("1.2-beta.5", true), ("v1.2-beta.5", true),
        ("\n1.2", false), ("\nv1.2", false), ("1.2\n", false), (" 1.2", false), ("V1.2", false),
        ("1.2.0-x.Y.0+metadata", true), ("v1.2.0-x.Y.0+metadata", true),
        ("1.2.0-x.Y.0+metadata-width-hypen", true), ("v1.2.0-x.Y.0+metadata-width-hypen", true),
        ("1.2.3-rc1-with-hypen", true), ("v1.2.3-rc1-with-hypen", true),
        ("1.2.3.4", false), ("v1.2.3.4", false),
        ("1.2.2147483648", true), ("1.2147483648.3", true), ("2147483648.3.0", true),
        ("12.3.4.1234", false), ("12.23.4.1234", false), ("12.3.34.1234", false),
        ("20221209-update-renovatejson-v4", true),
        ("", false), ("v", false), ("1.", false), ("1.2.", false), ("1.2.3-", false), ("1.2.3+", false),
        ("18446744073709551615.0.0", true), ("18446744073709551616.0.0", false),
        ("1.2.3-18446744073709551616", true), ("1.2.3-é", false),
    ])
    func newVersion(_ text: String, valid: Bool) {
        #expect(parses(text) == valid)
    }

    @Test(arguments: [
        ("1.2.3", true), ("1.2.3-alpha.01", false), ("1.2.3+test.01", true), ("1.2.3-alpha.-1", true),
        ("v1.2.3", false), ("1.0", false), ("v1.0", false), ("1", false), ("v1", false),
        ("1.2.beta", false), ("v1.2.beta", false), ("foo", false),
        ("1.2-5", false), ("v1.2-5", false), ("1.2-beta.5", false), ("v1.2-beta.5", false),
        ("\n1.2", false), ("\nv1.2", false),
        ("1.2.0-x.Y.0+metadata", true), ("v1.2.0-x.Y.0+metadata", false),
        ("1.2.0-x.Y.0+metadata-width-hypen", true), ("v1.2.0-x.Y.0+metadata-width-hypen", false),
        ("1.2.3-rc1-with-hypen", true), ("v1.2.3-rc1-with-hypen", false),
        ("1.2.3.4", false), ("v1.2.3.4", false),
        ("1.2.2147483648", true), ("1.2147483648.3", true), ("2147483648.3.0", true),
        ("20221209-update-renovatejson-v4", false),
        ("", false), ("1..3", false), ("01.2.3", false), ("0.0.0", true), ("1.2.3-0", true),
        ("9.8.7+meta+meta", false), ("1.2.3-beta+", false), ("18446744073709551616.0.0", false),
    ])
    func strictNewVersion(_ text: String, valid: Bool) {
        #expect(parsesStrictly(text) == valid)
    }

    // MARK: Parts, original and canonical form (TestParts / TestOriginal / TestCoerceString)

    @Test func parts() throws {
        let version = try v("1.2.3-beta.1+build.123")
        #expect(version.major == 1)
        #expect(version.minor == 2)
        #expect(version.patch == 3)
        #expect(version.prerelease == "beta.1")
        #expect(version.metadata == "build.123")
        #expect(version.isPrerelease)
        #expect(try !v("1.2.3+build").isPrerelease)
    }

    @Test(arguments: [
        ("1.2.3", "1.2.3"), ("v1.2.3", "1.2.3"), ("1.0", "1.0.0"), ("v1.0", "1.0.0"),
        ("1", "1.0.0"), ("v1", "1.0.0"), ("1.2-5", "1.2.0-5"), ("v1.2-5", "1.2.0-5"),
        ("1.2-beta.5", "1.2.0-beta.5"), ("v1.2-beta.5", "1.2.0-beta.5"),
        ("1.2.0-x.Y.0+metadata", "1.2.0-x.Y.0+metadata"), ("v1.2.0-x.Y.0+metadata", "1.2.0-x.Y.0+metadata"),
        ("1.2.0-x.Y.0+metadata-width-hypen", "1.2.0-x.Y.0+metadata-width-hypen"),
        ("v1.2.0-x.Y.0+metadata-width-hypen", "1.2.0-x.Y.0+metadata-width-hypen"),
        ("1.2.3-rc1-with-hypen", "1.2.3-rc1-with-hypen"), ("v1.2.3-rc1-with-hypen", "1.2.3-rc1-with-hypen"),
        ("0.46.00", "0.46.0"), ("01.1.1", "1.1.1"), ("20221209-update-renovatejson-v4", "20221209.0.0-update-renovatejson-v4"),
    ])
    func canonicalAndOriginal(_ text: String, canonical: String) throws {
        let version = try v(text)
        #expect(version.canonical == canonical)
        #expect(version.original == text)
        #expect(version.description == text)
    }

    // MARK: Ordering (TestCompare / TestLessThan / TestGreaterThan / TestEqual)

    @Test(arguments: [
        ("1.2.3", "1.5.1", -1), ("2.2.3", "1.5.1", 1), ("2.2.3", "2.2.2", 1), ("3.2-beta", "3.2-beta", 0),
        ("1.3", "1.1.4", 1), ("4.2", "4.2-beta", 1), ("4.2-beta", "4.2", -1), ("4.2-alpha", "4.2-beta", -1),
        ("4.2-alpha", "4.2-alpha", 0), ("4.2-beta.2", "4.2-beta.1", 1), ("4.2-beta2", "4.2-beta1", 1),
        ("4.2-beta", "4.2-beta.2", -1), ("4.2-beta", "4.2-beta.foo", -1), ("4.2-beta.2", "4.2-beta", 1),
        ("4.2-beta.foo", "4.2-beta", 1), ("1.2+bar", "1.2+baz", 0),
        ("1.0.0-beta.4", "1.0.0-beta.-2", -1), ("1.0.0-beta.-2", "1.0.0-beta.-3", -1), ("1.0.0-beta.-3", "1.0.0-beta.5", 1),
        // GreaterThan table
        ("3.2.0-beta.1", "3.2.0-beta.5", -1), ("3.2-beta.4", "3.2-beta.2", 1),
        ("7.43.0-SNAPSHOT.99", "7.43.0-SNAPSHOT.103", -1), ("7.43.0-SNAPSHOT.FOO", "7.43.0-SNAPSHOT.103", 1),
        ("7.43.0-SNAPSHOT.99", "7.43.0-SNAPSHOT.BAR", -1),
        // Equal table and partial versions
        ("3.2-beta+foo", "3.2-beta+bar", 0), ("1.0", "1.0.0", 0), ("v1.0.0", "1", 0), ("0.46.00", "0.46.0", 0),
        // SemVer 2.0 precedence examples, and byte-wise text comparison
        ("1.0.0-alpha", "1.0.0-alpha.1", -1), ("1.0.0-alpha.1", "1.0.0-alpha.beta", -1),
        ("1.0.0-alpha.beta", "1.0.0-beta", -1), ("1.0.0-beta", "1.0.0-beta.2", -1), ("1.0.0-beta.2", "1.0.0-beta.11", -1),
        ("1.0.0-beta.11", "1.0.0-rc.1", -1), ("1.0.0-rc.1", "1.0.0", -1), ("1.0.0-RC", "1.0.0-rc", -1),
        ("1.0.0-18446744073709551616", "1.0.0-9", 1), ("18446744073709551615.0.0", "18446744073709551614.9.9", 1),
    ])
    func compare(_ lhs: String, _ rhs: String, expected: Int) throws {
        let a = try v(lhs), b = try v(rhs)
        #expect(a.compare(to: b) == expected)
        #expect(b.compare(to: a) == -expected)
        #expect((a < b) == (expected < 0))
        #expect((a > b) == (expected > 0))
        #expect((a <= b) == (expected <= 0))
        #expect((a >= b) == (expected >= 0))
        #expect((a == b) == (expected == 0))
        if expected == 0 { #expect(a.hashValue == b.hashValue) }
    }

    @Test func equalityIgnoresMetadataAndSpelling() throws {
        let set: Set<SemanticVersion> = [try v("1.0"), try v("1.0.0"), try v("v1.0.0+build.5"), try v("1.0.0-rc.1")]
        #expect(set.count == 2)
        #expect(try v("1.0") == v("1.0.0"))
        #expect(try v("1.0.0-rc.1") != v("1.0.0"))
    }

    // MARK: Sorting (TestCollection)

    @Test(arguments: [
        (["1.2.3", "1.0", "1.3", "2", "0.4.2"], ["0.4.2", "1.0", "1.2.3", "1.3", "2"]),
        (["1.2.3", "1.0", "1.3", "2", "0.4.2", "0.46.00", "v5.20.0", "1.2.3-beta"],
         ["0.4.2", "0.46.00", "1.0", "1.2.3-beta", "1.2.3", "1.3", "2", "v5.20.0"]),
        (["1.0.0", "1.0.0-rc.1", "1.0.0-beta.11", "1.0.0-beta.2", "1.0.0-beta", "1.0.0-alpha.beta", "1.0.0-alpha.1", "1.0.0-alpha"],
         ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0"]),
    ])
    func sorting(_ input: [String], expected: [String]) throws {
        let sorted = try input.map(v).sorted()
        #expect(sorted.map(\.original) == expected)
    }

    // MARK: Error messages

    @Test(arguments: [
        ("1.2.beta", "invalid version \"1.2.beta\": invalid semantic version: \"beta\" is not a number"),
        ("", "invalid version \"\": version string empty"),
        ("foo", "invalid version \"foo\": invalid semantic version: must start with a number (optionally after \"v\")"),
        ("1.2.3.4", "invalid version \"1.2.3.4\": invalid semantic version: more than three numeric segments"),
        ("1.2.3-beta.01", "invalid version \"1.2.3-beta.01\": version segment starts with 0: numeric prerelease identifier \"01\" has a leading zero"),
        ("1.0.0-alpha_beta", "invalid version \"1.0.0-alpha_beta\": invalid prerelease string: identifiers are dot-separated, non-empty [0-9A-Za-z-]"),
        ("9.8.7+meta+meta", "invalid version \"9.8.7+meta+meta\": invalid metadata string: identifiers are dot-separated, non-empty [0-9A-Za-z-], one \"+\""),
        ("99999999999999999999.0.0", "invalid version \"99999999999999999999.0.0\": error parsing version segment: \"99999999999999999999\" is out of range for a 64-bit number"),
        ("\n1.2", "invalid version \"\\n1.2\": invalid semantic version: must start with a number (optionally after \"v\")"),
    ])
    func lenientErrorMessages(_ text: String, message: String) {
        #expect(throws: SemanticVersionError.self) { try SemanticVersion(parsing: text) }
        do {
            _ = try SemanticVersion(parsing: text)
        } catch {
            #expect(error.text == text)
            #expect(error.description == message)
        }
    }

    @Test(arguments: [
        ("v1.2.3", "invalid characters in version"),
        ("1.2", "invalid semantic version: expected MAJOR.MINOR.PATCH"),
        ("01.1.1", "version segment starts with 0"),
        ("", "version string empty"),
        ("9.8.7+meta+meta", "invalid metadata string: \"meta+meta\" has characters outside [0-9A-Za-z-]"),
        ("1.2.3-alpha..1", "invalid prerelease string: empty identifier"),
    ])
    func strictErrorReasons(_ text: String, reason: String) {
        do {
            _ = try SemanticVersion.strict(text)
            Issue.record("\(text.debugDescription) should not parse strictly")
        } catch {
            #expect(error.reason == reason)
        }
    }
}
