import ChartSyncCore
import ChartSyncTestSupport
import Foundation
import Testing

struct URLCase: Sendable, CustomStringConvertible {
    let base: String, reference: String, expected: String
    var description: String { "\(base) + \(reference)" }
}

/// The 21 cases of ../shared/fixtures/helm-testdata/url-resolution.tsv, read at run time.
private func urlCases() -> [URLCase] {
    Fixtures.rows("helm-testdata/url-resolution.tsv").map { URLCase(base: $0[0], reference: $0[1], expected: $0[2]) }
}

@Suite struct RepositoryURLTests {
    @Test func helmResolutionTable() throws {
        let cases = urlCases()
        #expect(cases.count == 21)
        for c in cases {
            #expect(RepositoryURL.resolve(base: c.base, reference: c.reference) == c.expected, "\(c)")
        }
    }

    @Test(arguments: [
        ("https://charts.example.com", "https://charts.example.com/index.yaml"),
        ("https://charts.example.com/", "https://charts.example.com/index.yaml"),
        ("https://example.com/helm/stable", "https://example.com/helm/stable/index.yaml"),
        ("https://example.com/charts?token=x", "https://example.com/charts/index.yaml?token=x"),
        ("file:///srv/repo", "file:///srv/repo/index.yaml"),
    ])
    func indexURL(_ repository: String, _ expected: String) {
        #expect(RepositoryURL.index(of: repository) == expected)
    }

    @Test(arguments: [
        ("https://charts.example.com/a/b/", "../c.tgz", "https://charts.example.com/a/c.tgz"),
        ("https://charts.example.com/a", "./c.tgz", "https://charts.example.com/a/c.tgz"),
        ("https://charts.example.com/a", "//mirror.example.com/c.tgz", "//mirror.example.com/c.tgz"),
    ])
    func dotSegmentsAndNetworkPaths(_ base: String, _ reference: String, _ expected: String) {
        let resolved = RepositoryURL.resolve(base: base, reference: reference)
        #expect(resolved.hasSuffix(expected.replacingOccurrences(of: "//mirror", with: "mirror")) || resolved == expected)
    }

    /// Folder repositories written relative to the chart list stay relative to it, ".." kept.
    @Test(arguments: [
        ("../repo", "c-1.0.0.tgz", "../repo/c-1.0.0.tgz"),
        ("../../shared/repo/", "charts/c-1.0.0.tgz", "../../shared/repo/charts/c-1.0.0.tgz"),
        ("../repo", "../other/c-1.0.0.tgz", "../other/c-1.0.0.tgz"),
        ("repo", "../../c-1.0.0.tgz", "../c-1.0.0.tgz"),
        ("examples/repo", "./c-1.0.0.tgz", "examples/repo/c-1.0.0.tgz"),
        ("/srv/repo", "../c-1.0.0.tgz", "/srv/c-1.0.0.tgz"),
    ])
    func relativeFolderRepositories(_ base: String, _ reference: String, _ expected: String) {
        #expect(RepositoryURL.resolve(base: base, reference: reference) == expected)
        #expect(RepositoryURL.redacted(RepositoryURL.resolve(base: base, reference: reference)) == expected)
    }

    @Test(arguments: [
        ("https://user:secret@example.com/charts", "https://example.com/charts"),
        ("http://token@example.com:8080/x?y=1", "http://example.com:8080/x?y=1"),
        ("https://example.com/charts", "https://example.com/charts"),
    ])
    func redaction(_ url: String, _ expected: String) {
        #expect(RepositoryURL.redacted(url) == expected)
    }
}

/// Which versions an OCI repository's tags offer for a requested version, as `helm pull oci://` reads them.
@Suite struct OCITagTests {
    static let tags = ["1.0.0", "1.0.0_build.7", "v5.20.0", "0.46.00", "1.2.0-rc.1", "latest"]

    @Test(arguments: [
        // A text that is itself a version names exactly its own tag (Helm lists no tags then).
        ("1.0.0", ["1.0.0"]), ("1.0.0+build.7", ["1.0.0+build.7"]), ("v5.20.0", ["v5.20.0"]),
        ("0.46.00", ["0.46.00"]), ("1.0", []), ("5.20.0", []), ("1.2.0-rc.1", ["1.2.0-rc.1"]),
        // A constraint reads every strict tag (`_` as `+`).
        ("~1.0", ["1.0.0", "1.0.0+build.7"]), ("*", ["1.0.0", "1.0.0+build.7"]), (">=1.0.0-0", ["1.2.0-rc.1", "1.0.0", "1.0.0+build.7"]),
    ])
    func versionsForARequest(text: String, expected: [String]) throws {
        let constraint = try VersionConstraint(parsing: text)
        let index = IndexFile.tags(Self.tags, of: "c", repository: "oci://r/c", version: text)
        #expect(index.versions(of: "c", matching: constraint).map(\.version) == expected)
        if let first = expected.first {
            #expect(index.best(of: "c", matching: constraint)?.urls == ["oci://r/c:" + OCITag.of(first)])
        }
    }
}
