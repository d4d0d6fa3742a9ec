import ChartSyncArchive
import ChartSyncCore
import ChartSyncTestSupport
import Foundation
import Testing

@Suite struct BundleReproducibilityTests {
    init() { _ = utf8Locale }

    /// Two copies of the same payload that differ in everything but bytes and executable bits.
    func twoCopies(_ temp: TemporaryDirectory) throws -> (Payload, Payload) {
        let first = try makePayload(temp, directory: "one", bigBytes: 50_000)
        let second = try makePayload(temp, directory: "two", bigBytes: 50_000)
        for (index, file) in first.files.enumerated() {
            try runCommand(["touch", "-d", "2001-01-01 00:00:00", file.source])
            try runCommand(["chmod", file.executable ? "0755" : "0644", file.source])
            let other = second.files[index].source
            try runCommand(["touch", "-d", "2024-06-0\(1 + index % 9) 12:34:56", other])
            try runCommand(["chmod", file.executable ? "0700" : (index % 2 == 0 ? "0600" : "0444"), other])
        }
        return (first, second)
    }

    @Test(arguments: BundleCompression.allCases)
    func sameInputsGiveIdenticalBytes(_ compression: BundleCompression) throws {
        let temp = try TemporaryDirectory(prefix: "chartsync-bundle")
        let (first, second) = try twoCopies(temp)
        var shuffled = second
        shuffled.files = second.files.sorted { $0.source > $1.source }
        let a = try writeBundle(temp, first, compression: compression, directory: "a")
        // A pause, so that a clock-dependent writer would differ.
        Thread.sleep(forTimeInterval: 1.1)
        let b = try writeBundle(temp, shuffled, compression: compression, directory: "b")
        let name = "bundle" + bundleExtension(compression)
        #expect(try bytes(temp.file("a/" + name)) == bytes(temp.file("b/" + name)))
        #expect(a.sha256 == b.sha256)
        #expect(a.size == b.size)

        // The mtime given is part of the output; nothing else is.
        let c = try writeBundle(temp, first, compression: compression, directory: "c", mtime: 1_700_000_001)
        #expect(c.sha256 != a.sha256)
    }

    @Test func gzipHeaderHasNoTimestampAndNoName() throws {
        let temp = try TemporaryDirectory(prefix: "chartsync-bundle")
        let payload = try makePayload(temp, bigBytes: 10)
        try writeBundle(temp, payload, compression: .gzip)
        let header = Array(try bytes(temp.file("out/bundle.tar.gz")).prefix(10))
        // ID1 ID2 CM=deflate FLG=0 (no FNAME, no FEXTRA, no comment) MTIME=0 XFL OS
        #expect(Array(header.prefix(8)) == [0x1f, 0x8b, 8, 0, 0, 0, 0, 0])
    }

    @Test func sourceDateEpochIsTheModificationTimeOfEveryEntry() throws {
        let temp = try TemporaryDirectory(prefix: "chartsync-bundle")
        let payload = try makePayload(temp, bigBytes: 10)
        try writeBundle(temp, payload, compression: .zstd, mtime: 1_577_836_800)  // SOURCE_DATE_EPOCH=2020-01-01T00:00:00Z
        let listing = try runCommand(["sh", "-c", "zstd -dc \"$1\" | TZ=UTC tar --full-time -tvf -", "sh", temp.file("out/bundle.tar.zst")])
        let lines = listing.split(separator: "\n")
        #expect(lines.count == payload.files.count + 2)
        for line in lines {
            #expect(line.contains(" 2020-01-01 00:00:00 "), "\(line)")
        }
        try writeBundle(temp, payload, compression: .zstd, directory: "zero", mtime: 0)
        let epoch = try runCommand(["sh", "-c", "zstd -dc \"$1\" | TZ=UTC tar --full-time -tvf -", "sh", temp.file("zero/bundle.tar.zst")])
        #expect(epoch.split(separator: "\n").allSatisfy { $0.contains(" 1970-01-01 00:00:00 ") })
    }
}

@Suite struct BundleStockToolTests {
    init() { _ = utf8Locale }

    /// The entry names a bundle should list.
    func names(_ payload: Payload) -> [String] {
        ["MANIFEST", "MANIFEST.sig"] + payload.contents.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }.map { "payload/" + $0 }
    }

    @Test func gnuTarListsTheGzipBundle() throws {
        let temp = try TemporaryDirectory(prefix: "chartsync-bundle")
        let payload = try makePayload(temp)
        try writeBundle(temp, payload, compression: .gzip)
        let listed = try runCommand(["tar", "-tf", temp.file("out/bundle.tar.gz")]).split(separator: "\n").map(String.init)
        #expect(listed == names(payload))
        try runCommand(["gzip", "-t", temp.file("out/bundle.tar.gz")])
    }

    @Test func zstdAndTarListTheZstdBundle() throws {
        let temp = try TemporaryDirectory(prefix: "chartsync-bundle")
        let payload = try makePayload(temp)
        try writeBundle(temp, payload, compression: .zstd)
        let bundle = temp.file("out/bundle.tar.zst")
        let listed = try runCommand(["sh", "-c", "zstd -dc \"$1\" | tar -tf -", "sh", bundle]).split(separator: "\n").map(String.init)
        #expect(listed == names(payload))
        try runCommand(["zstd", "-q", "-t", bundle])
    }

    @Test(arguments: BundleCompression.allCases)
    func gnuTarExtractsTheBundle(_ compression: BundleCompression) throws {
        let temp = try TemporaryDirectory(prefix: "chartsync-bundle")
        let payload = try makePayload(temp)
        try writeBundle(temp, payload, compression: compression)
        let target = temp.file("x")
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: false)
        let bundle = temp.file("out/bundle" + bundleExtension(compression))
        let flag = compression == .zstd ? "--zstd" : (compression == .gzip ? "-z" : "--no-auto-compress")
        try runCommand(["tar", flag, "-xf", bundle, "-C", target])
        #expect(try bytes(target + "/MANIFEST") == testManifest)
        #expect(try bytes(target + "/MANIFEST.sig") == testSignature)
        try expectExtracted(target + "/payload", payload)
    }
}
