import ChartSyncCore
import ChartSyncIndex
import Testing

@Suite struct BundleSidecarCodingTests {
    static let a = Digest(String(repeating: "a", count: 64))!
    static let b = Digest(String(repeating: "b", count: 64))!

    @Test func partsRoundTripAndHeader() throws {
        let list = BundlePartsList(parts: [.init(name: "x.bundle.000", size: 10, sha256: Self.a),
                                           .init(name: "x.bundle.001", size: 3, sha256: Self.b)], whole: Self.b)
        let text = BundleSidecarCoding.text(list)
        #expect(text.hasPrefix("# chartsync bundle parts: size sha256 file, in order; the whole stream is sha256:bbbb"))
        #expect(text.contains("\n10 \(Self.a.hex) x.bundle.000\n3 \(Self.b.hex) x.bundle.001\n"))
        #expect(try BundleSidecarCoding.parseParts(Array(text.utf8), source: "x.parts") == list)
    }

    @Test(arguments: ["10 nothex x.000", "ten \(String(repeating: "a", count: 64)) x.000",
                      "10 \(String(repeating: "a", count: 64))", "10 \(String(repeating: "a", count: 64)) ../x.000"])
    func malformedPartsLineIsNamed(_ line: String) {
        #expect(throws: SidecarError(source: "x.parts", line: line)) {
            try BundleSidecarCoding.parseParts(Array("# header\n\(line)\n".utf8), source: "x.parts")
        }
    }

    @Test func checksumsAreSha256sumLines() throws {
        let list = ChecksumList(lines: [.init(sha256: Self.a, name: "x.bundle"), .init(sha256: Self.b, name: "x.bundle.parts")])
        let text = BundleSidecarCoding.text(list)
        #expect(text == "\(Self.a.hex)  x.bundle\n\(Self.b.hex)  x.bundle.parts\n")
        let parsed = try BundleSidecarCoding.parseChecksums(Array(text.utf8), source: "x.sha256")
        #expect(parsed == list)
        #expect(parsed.digest(of: "x.bundle.parts") == Self.b)
        #expect(parsed.digest(of: "other") == nil)
        #expect(throws: SidecarError.self) { try BundleSidecarCoding.parseChecksums(Array("garbage\n".utf8), source: "x.sha256") }
    }
}
