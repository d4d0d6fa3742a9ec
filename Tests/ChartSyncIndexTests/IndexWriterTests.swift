import ChartSyncCore
import ChartSyncIndex
import Testing

@Suite struct IndexWriterTests {
    /// Strings a YAML reader could take for something else, or that need escapes, come back intact.
    @Test(arguments: [
        "plain words", "true", "no", "null", "~", "1.0", "0.46.00", "1e3", "- dash", "key: value", "#hash",
        "quote \" and \\ backslash", "line\nbreak", "tab\there", "bell\u{7}", "  leading", "trailing  ",
        "ünïcödé ✓", "", "@at", "*star", "&amp", "!bang", "%percent", "{brace}", "[bracket]", "'single'",
    ])
    func awkwardStringsRoundTrip(_ text: String) throws {
        let meta = ChartMetadata(name: "c", version: "1.0.0", appVersion: text, description: text,
                                 keywords: [text], annotations: ["k": text])
        let entry = IndexWriter.Entry(metadata: meta, digest: Digest(bytes: [UInt8](repeating: 7, count: 32)),
                                      urls: ["c-1.0.0.tgz"], created: "2026-01-01T00:00:00Z")
        let yaml = Array(IndexWriter.yaml(entries: [entry], generated: "2026-01-01T00:00:00Z").utf8)
        let index = try yaml.withUnsafeBytes { try IndexReader().read(bytes: $0, source: "written") }
        let v = try #require(index.versions(of: "c").first)
        #expect(v.appVersion == text)
        #expect(v.description == text)
        #expect(v.digest == entry.digest)
    }

    @Test func chartsSortedByNameAndVersionsNewestFirst() throws {
        let digest = Digest(bytes: [UInt8](repeating: 1, count: 32))
        let entries = [("b", "1.0.0"), ("a", "0.9.0"), ("b", "1.10.0"), ("b", "1.2.0-rc.1"), ("a", "v1.0.0")].map {
            IndexWriter.Entry(metadata: ChartMetadata(name: $0.0, version: $0.1), digest: digest,
                              urls: ["\($0.0)-\($0.1).tgz"], created: "2026-01-01T00:00:00Z")
        }
        let text = IndexWriter.yaml(entries: entries, generated: "2026-01-01T00:00:00Z")
        let versionLines = text.split(separator: "\n").filter { $0.hasPrefix("    version:") }
        #expect(versionLines == ["    version: v1.0.0", "    version: \"0.9.0\"", "    version: \"1.10.0\"",
                                 "    version: \"1.2.0-rc.1\"", "    version: \"1.0.0\""])
        #expect(text.hasPrefix("apiVersion: v1\nentries:\n  a:\n  - apiVersion: v2\n"))
    }
}
