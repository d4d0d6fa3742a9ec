import ChartSyncArchive
import ChartSyncCore
import ChartSyncTestSupport
import Foundation
import Testing

/// The file name extension tests give a bundle of `compression`.
func bundleExtension(_ compression: BundleCompression) -> String {
    switch compression {
    case .zstd: return ".tar.zst"
    case .gzip: return ".tar.gz"
    case .none: return ".tar"
    }
}

/// Writes `payload` as a bundle `<temp>/<directory>/bundle<ext>` and returns the result.
@discardableResult
func writeBundle(
    _ temp: TemporaryDirectory, _ payload: Payload, compression: BundleCompression, directory: String = "out",
    signature: [UInt8]? = testSignature, mtime: Int64 = 1_700_000_000, splitSize: Int64? = nil
) throws -> BundleWriteResult {
    let out = temp.file(directory)
    try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
    return try BundleArchiveWriter.write(
        to: out + "/bundle" + bundleExtension(compression), manifest: testManifest, signature: signature,
        payload: payload.files.reversed(), expected: payload.expected, compression: compression,
        mtime: mtime, splitSize: splitSize)
}

/// Checks that `staging` holds exactly `payload`, byte for byte, with modes 0644/0755 and directories 0755.
func expectExtracted(_ staging: String, _ payload: Payload, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let files = tree(staging).filter { !$0.hasSuffix("/") }
    #expect(files == payload.contents.keys.sorted(), sourceLocation: sourceLocation)
    for file in payload.files {
        #expect(try bytes(staging + "/" + file.path) == payload.contents[file.path], "\(file.path)", sourceLocation: sourceLocation)
        #expect(mode(staging + "/" + file.path) == (file.executable ? 0o755 : 0o644), "\(file.path)", sourceLocation: sourceLocation)
    }
    #expect(mode(staging) == 0o755, sourceLocation: sourceLocation)
    for directory in tree(staging) where directory.hasSuffix("/") {
        #expect(mode(staging + "/" + directory) == 0o755, "\(directory)", sourceLocation: sourceLocation)
    }
}

@Suite struct BundleRoundTripTests {
    init() { _ = utf8Locale }

    @Test(arguments: BundleCompression.allCases)
    func writtenBundleReadsBackByteForByte(_ compression: BundleCompression) throws {
        let temp = try TemporaryDirectory(prefix: "chartsync-bundle")
        let payload = try makePayload(temp)
        let result = try writeBundle(temp, payload, compression: compression)
        let bundle = temp.file("out/bundle" + bundleExtension(compression))

        // One file, described exactly, and nothing else beside it.
        #expect(result.parts.map(\.file) == [bundle])
        #expect(result.parts.first?.size == size(bundle))
        #expect(result.size == size(bundle))
        #expect(try result.sha256 == sha256(file: bundle))
        #expect(result.parts.first?.sha256 == result.sha256)
        #expect(listing(temp.file("out")) == ["bundle" + bundleExtension(compression)])

        let reader = try BundleArchiveReader(parts: [bundle], expectedParts: result.parts, limits: BundleLimits())
        #expect(reader.name == bundle)
        let (manifest, signature) = try reader.readManifest()
        #expect(manifest == testManifest)
        #expect(signature == testSignature)
        let staging = temp.file("staging")
        let digest = try reader.extract(into: staging, expected: payload.expectedFiles)
        #expect(digest == result.sha256)
        #expect(reader.partsRead == result.parts)
        try expectExtracted(staging, payload)
        #expect(listing(temp.path) == ["out", "src", "staging"])
    }

    @Test(arguments: BundleCompression.allCases)
    func bundleWithoutSignatureAndExtractWithoutReadingTheManifestFirst(_ compression: BundleCompression) throws {
        let temp = try TemporaryDirectory(prefix: "chartsync-bundle")
        let payload = try makePayload(temp, bigBytes: 10)
        let result = try writeBundle(temp, payload, compression: compression, signature: nil)
        let bundle = temp.file("out/bundle" + bundleExtension(compression))

        let reader = try BundleArchiveReader(parts: [bundle], expectedParts: nil, limits: BundleLimits())
        let (manifest, signature) = try reader.readManifest()
        #expect(manifest == testManifest)
        #expect(signature == nil)
        // readManifest again gives the same without reading further.
        #expect(try reader.readManifest().manifest == testManifest)
        #expect(try reader.extract(into: temp.file("a"), expected: payload.expectedFiles) == result.sha256)
        try expectExtracted(temp.file("a"), payload)

        let direct = try BundleArchiveReader(parts: [bundle], expectedParts: nil, limits: BundleLimits())
        #expect(try direct.extract(into: temp.file("b"), expected: payload.expectedFiles) == result.sha256)
        try expectExtracted(temp.file("b"), payload)
        // A reader is used once.
        let again = expectArchiveError { _ = try direct.extract(into: temp.file("c"), expected: payload.expectedFiles) }
        #expect(again.map(BundleErrorParts.init)?.kind == "invalidBundleRequest")
        #expect(!exists(temp.file("c")))
    }

    /// Entries of many of the reader's 1 MiB blocks, which are hashed and written on a thread of
    /// their own (whole pages around the page cache), one after the other: each file holds exactly
    /// its bytes; and a bad one among them is refused with nothing left behind.
    @Test(arguments: [BundleCompression.zstd, .none])
    func entriesOfManyBlocksReadBackByteForByte(_ compression: BundleCompression) throws {
        let temp = try TemporaryDirectory(prefix: "chartsync-bundle")
        var payload = Payload()
        let sizes = [("a-one-block", 1 << 20), ("b-blocks-and-pages", 3 << 20 + 4096 * 5), ("c-tail", 2 << 20 + 4097),
                     ("d-small", 100), ("e-pages", 4096 * 3), ("f-tail", 5 << 20 + 1)]
        for (offset, (name, count)) in sizes.enumerated() {
            try payload.add("images/blobs/" + name, testBytes(count: count, seed: UInt64(offset + 1)),
                            source: temp.file("src/" + name))
        }
        let result = try writeBundle(temp, payload, compression: compression)
        let bundle = temp.file("out/bundle" + bundleExtension(compression))
        let reader = try BundleArchiveReader(parts: [bundle], expectedParts: result.parts, limits: BundleLimits())
        #expect(try reader.extract(into: temp.file("staging"), expected: payload.expectedFiles) == result.sha256)
        try expectExtracted(temp.file("staging"), payload)

        // The fourth entry of six expected with another digest: refused, and the files written
        // before it (and the one being written) are gone with the staging directory.
        var wrong = payload.expectedFiles
        let index = wrong.firstIndex { $0.path == "images/blobs/c-tail" }!
        wrong[index] = BundleExpectedFile(path: wrong[index].path, size: wrong[index].size,
                                          sha256: try sha256(testBytes(count: 3)), executable: false)
        let again = try BundleArchiveReader(parts: [bundle], expectedParts: result.parts, limits: BundleLimits())
        let error = expectArchiveError { _ = try again.extract(into: temp.file("bad"), expected: wrong) }
        let parts = error.map(BundleErrorParts.init)
        #expect(parts?.kind == "entryDigestMismatch" && parts?.entry == "payload/images/blobs/c-tail", "\(String(describing: parts))")
        #expect(!exists(temp.file("bad")))
        #expect(listing(temp.path) == ["out", "src", "staging"])
    }

    @Test func emptyPayloadAndEmptyManifest() throws {
        let temp = try TemporaryDirectory(prefix: "chartsync-bundle")
        let bundle = temp.file("empty.tar.zst")
        let result = try BundleArchiveWriter.write(
            to: bundle, manifest: [], signature: nil, payload: [], expected: [:], compression: .zstd, mtime: 0, splitSize: nil)
        let reader = try BundleArchiveReader(parts: [bundle], expectedParts: result.parts, limits: BundleLimits())
        #expect(try reader.readManifest().manifest == [])
        #expect(try reader.extract(into: temp.file("staging"), expected: []) == result.sha256)
        #expect(tree(temp.file("staging")) == [])
    }

    @Test func entriesAreInOrderWithFixedOwnerModeAndTime() throws {
        let temp = try TemporaryDirectory(prefix: "chartsync-bundle")
        let payload = try makePayload(temp, bigBytes: 10)
        try writeBundle(temp, payload, compression: .gzip, mtime: 1_234_567_890)
        let listingText = try runCommand([
            "env", "TZ=UTC", "tar", "--full-time", "-tvzf", temp.file("out/bundle.tar.gz"),
        ])
        let lines = listingText.split(separator: "\n").map(String.init)
        let sortedPayload = payload.files.sorted { $0.path.utf8.lexicographicallyPrecedes($1.path.utf8) }
        let names = lines.map { line -> String in
            let fields = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
            return String(fields[5])
        }
        #expect(names == ["MANIFEST", "MANIFEST.sig"] + sortedPayload.map { "payload/" + $0.path })
        for (line, name) in zip(lines, names) {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            let executable = sortedPayload.first { "payload/" + $0.path == name }?.executable ?? false
            #expect(fields[0] == (executable ? "-rwxr-xr-x" : "-rw-r--r--"), "\(line)")
            #expect(fields[1] == "0/0", "\(line)")  // numeric: no user or group names
            #expect(fields[3] == "2009-02-13" && fields[4] == "23:31:30", "\(line)")
        }
        // No atime/ctime or other pax records: only the long and non-ASCII paths need pax headers.
        let raw = try runCommand(["sh", "-c", "gzip -dc \"$1\" | strings -n 4 | grep -E '[0-9]+ [a-zA-Z.]+=' || true", "sh",
                                  temp.file("out/bundle.tar.gz")])
        let keys = Set(raw.split(separator: "\n").compactMap { line -> String? in
            guard let equals = line.firstIndex(of: "="), let space = line.firstIndex(of: " ") else { return nil }
            return String(line[line.index(after: space)..<equals])
        })
        #expect(keys == ["path"], "\(raw)")
    }
}
