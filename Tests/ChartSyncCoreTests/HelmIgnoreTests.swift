import ChartSyncCore
import Testing

/// `.helmignore` as Helm 4 applies it (pkg/ignore/rules_test.go's table, plus the cases its
/// code decides that the table does not show) and Go's `filepath.Match` beneath it.
@Suite struct HelmIgnoreTests {
    static func rules(_ text: String) throws -> HelmIgnore { try HelmIgnore(parsing: Array(text.utf8)) }

    /// Helm's own table: pattern, path, whether the path is a directory in Helm's testdata, ignored.
    @Test(arguments: [
        // Globs
        ("helm.txt", "helm.txt", false, true),
        ("helm.*", "helm.txt", false, true),
        ("helm.*", "rudder.txt", false, false),
        ("*.txt", "tiller.txt", false, true),
        ("*.txt", "cargo/a.txt", false, true),
        ("cargo/*.txt", "cargo/a.txt", false, true),
        ("cargo/*.*", "cargo/a.txt", false, true),
        ("cargo/*.txt", "mast/a.txt", false, false),
        ("ru[c-e]?er.txt", "rudder.txt", false, true),
        ("templates/.?*", "templates/.dotfile", false, true),
        // "." is never ignored (helm issue 1776)
        (".*", ".", true, false),
        (".*", "./", true, false),
        (".*", ".joonix", false, true),
        (".*", "helm.txt", false, false),
        (".*", "", false, false),
        // Directories
        ("cargo/", "cargo", true, true),
        ("cargo/", "cargo/", true, true),
        ("cargo/", "mast/", true, false),
        ("helm.txt/", "helm.txt", false, false),
        // Negation: a negated rule ignores what it does not match
        ("!helm.txt", "helm.txt", false, false),
        ("!helm.txt", "tiller.txt", false, true),
        ("!*.txt", "cargo", true, true),
        ("!cargo/", "mast/", true, true),
        // Rooted
        ("/a.txt", "a.txt", false, true),
        ("/a.txt", "cargo/a.txt", false, false),
        ("/cargo/a.txt", "cargo/a.txt", false, true),
    ])
    func helmsTable(_ pattern: String, _ path: String, _ isDirectory: Bool, _ ignored: Bool) throws {
        #expect(try Self.rules(pattern).ignores(path, isDirectory: isDirectory) == ignored)
    }

    @Test func rulesApplyInOrderAndTheDefaultComesLast() throws {
        let ignore = try Self.rules("\u{FEFF}# comment\n\n  *.bak  \r\nsecrets/\n!values.yaml\nnever-reached.txt\n")
        #expect(ignore.rules.map(\.raw) == ["*.bak", "secrets/", "!values.yaml", "never-reached.txt", "templates/.?*"])
        #expect(ignore.ignores("templates/old.bak", isDirectory: false))
        #expect(ignore.ignores("secrets", isDirectory: true))
        // A file named secrets: not by secrets/ (directories only) but by !values.yaml, which ignores all it does not match.
        #expect(ignore.ignores("secrets", isDirectory: false))
        // A negated rule decides "ignore" for everything it does not match, so it shadows later rules.
        #expect(ignore.ignores("Chart.yaml", isDirectory: false))
        #expect(!ignore.ignores("values.yaml", isDirectory: false))
        // Without .helmignore only the default applies: dot files in templates/.
        let none = try HelmIgnore(parsing: nil)
        #expect(none.ignores("templates/.swp", isDirectory: false))
        #expect(!none.ignores(".helmignore", isDirectory: false))
        #expect(!none.ignores("templates/a.yaml", isDirectory: false))
        #expect(!none.ignores("files/.keep", isDirectory: false))
    }

    @Test(arguments: ["foo/**/bar", "**", "[z-", "a\\"])
    func malformedRulesAreRefused(_ rule: String) {
        #expect(throws: HelmIgnore.ParseError.self) { try Self.rules("ok\n" + rule + "\n") }
        do {
            _ = try Self.rules("ok\n" + rule + "\n")
        } catch let error as HelmIgnore.ParseError {
            #expect(error.line == 2)
        } catch {
            Issue.record("\(error)")
        }
    }

    /// Go's filepath.Match (its own test table, Unix cases).
    @Test(arguments: [
        ("abc", "abc", true as Bool?), ("*", "abc", true), ("*c", "abc", true), ("a*", "a", true), ("a*", "abc", true),
        ("a*", "ab/c", false), ("a*/b", "abc/b", true), ("a*/b", "a/c/b", false), ("a*b*c*d*e*/f", "axbxcxdxe/f", true),
        ("a*b*c*d*e*/f", "axbxcxdxexxx/f", true), ("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", false),
        ("a*b*c*d*e*/f", "axbxcxdxexxx/fff", false), ("a*b?c*x", "abxbbxdbxebxczzx", true),
        ("a*b?c*x", "abxbbxdbxebxczzy", false), ("ab[c]", "abc", true), ("ab[b-d]", "abc", true), ("ab[e-g]", "abc", false),
        ("ab[^c]", "abc", false), ("ab[^b-d]", "abc", false), ("ab[^e-g]", "abc", true), ("a\\*b", "a*b", true),
        ("a\\*b", "ab", false), ("a?b", "a☺b", true), ("a[^a]b", "a☺b", true), ("a???b", "a☺b", false),
        ("a[^a][^a][^a]b", "a☺b", false), ("[a-ζ]*", "α", true), ("*[a-ζ]", "A", false), ("a?b", "a/b", false),
        ("a*b", "a/b", false), ("[\\]a]", "]", true), ("[\\-]", "-", true), ("[x\\-]", "x", true), ("[x\\-]", "-", true),
        ("[x\\-]", "z", false), ("[\\-x]", "x", true), ("[\\-x]", "-", true), ("[\\-x]", "a", false), ("[]a]", "]", nil),
        ("[-]", "-", nil), ("[x-]", "x", nil), ("[x-]", "-", nil), ("[x-]", "z", nil), ("[-x]", "x", nil), ("[-x]", "-", nil),
        ("[-x]", "a", nil), ("\\", "a", nil), ("[a-b-c]", "a", nil), ("[", "a", nil), ("[^", "a", nil), ("[^bc", "a", nil),
        ("a[", "a", nil), ("a[", "ab", nil), ("a[", "x", nil), ("a/b[", "x", nil), ("*x", "xxx", true),
    ])
    func goMatch(_ pattern: String, _ name: String, _ expected: Bool?) {
        #expect(GoGlob.match(pattern, name) == expected)
    }
}
