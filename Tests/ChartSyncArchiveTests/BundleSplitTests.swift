import ChartSyncArchive
import ChartSyncCore
import ChartSyncTestSupport
import Foundation
import Testing

@Suite struct BundleSplitTests {
    init() { _ = utf8Locale }

    static let splitSize: Int64 = 64 << 10

    /// A payload of about 1 MB (mostly incompressible) written whole into `whole/` and split into `split/`.
    func splitBundle(_ temp: TemporaryDirectory, _ compression: BundleCompression = .zstd)
        throws -> (payload: Payload, whole: BundleWriteResult, split: BundleWriteResult) {
        let payload = try makePayload(temp, bigBytes: 1_000_000)
        let whole = try writeBundle(temp, payload, compression: compression, directory: "whole")
        let split = try writeBundle(temp, payload, compression: compression, directory: "split", splitSize: Self.splitSize)
        return (payload, whole, split)
    }

    @Test(arguments: BundleCompression.allCases)
    func partsHaveExactSizesAndJoinToTheWholeBundle(_ compression: BundleCompression) throws {
        let temp = try TemporaryDirectory(prefix: "chartsync-bundle")
        let (payload, whole, split) = try splitBundle(temp, compression)
        let base = temp.file("split/bundle" + bundleExtension(compression))

        #expect(split.parts.count == Int((whole.size + Self.splitSize - 1) / Self.splitSize))
        #expect(split.parts.count > 10)
        for (index, part) in split.parts.enumerated() {
            #expect(part.file == base + "." + String(format: "%03d", index))
            #expect(part.size == size(part.file))
            #expect(try part.sha256 == sha256(file: part.file))
            if index < split.parts.count - 1 {
                #expect(part.size == Self.splitSize)
            } else {
                #expect(part.size > 0 && part.size <= Self.splitSize)
            }
        }
        #expect(listing(temp.file("split")) == split.parts.map { ($0.file as NSString).lastPathComponent })
        #expect(split.size == whole.size)
        #expect(split.sha256 == whole.sha256)

        // cat of the parts is the whole bundle, byte for byte.
        let joined = temp.file("joined")
        try runCommand(["sh", "-c", "cat \"$@\" > \"$0\"", joined] + split.parts.map(\.file))
        #expect(try bytes(joined) == bytes(whole.parts[0].file))

        // Reading the parts (checked, and unchecked) gives the payload.
        let reader = try BundleArchiveReader(parts: split.parts.map(\.file), expectedParts: split.parts, limits: BundleLimits())
        #expect(reader.name == base)
        #expect(try reader.readManifest().manifest == testManifest)
        // Each part is proven on its own; there is no one file whose sidecar would need the whole digest.
        #expect(try reader.extract(into: temp.file("checked"), expected: payload.expectedFiles) == nil)
        #expect(reader.partsRead == split.parts)
        try expectExtracted(temp.file("checked"), payload)

        let unchecked = try BundleArchiveReader(parts: split.parts.map(\.file), expectedParts: nil, limits: BundleLimits())
        #expect(try unchecked.extract(into: temp.file("unchecked"), expected: payload.expectedFiles) == nil)
        #expect(unchecked.partsRead == split.parts)
    }

    @Test func splitSizeOfExactlyTheStreamGivesOnePart() throws {
        let temp = try TemporaryDirectory(prefix: "chartsync-bundle")
        let payload = try makePayload(temp, bigBytes: 1000)
        let whole = try writeBundle(temp, payload, compression: .zstd, directory: "whole")
        let exact = try writeBundle(temp, payload, compression: .zstd, directory: "exact", splitSize: whole.size)
        #expect(exact.parts.map(\.size) == [whole.size])
        #expect(listing(temp.file("exact")) == ["bundle.tar.zst.000"])
        let larger = try writeBundle(temp, payload, compression: .zstd, directory: "larger", splitSize: 1 << 40)
        #expect(larger.parts.map(\.size) == [whole.size])
        let smaller = try writeBundle(temp, payload, compression: .zstd, directory: "smaller", splitSize: whole.size - 1)
        #expect(smaller.parts.map(\.size) == [whole.size - 1, 1])
    }

    @Test func flippedByteInPart001IsNamed() throws {
        let temp = try TemporaryDirectory(prefix: "chartsync-bundle")
        let (payload, _, split) = try splitBundle(temp)
        let part = split.parts[1].file
        try runCommand(["python3", "-c", "import sys; f = open(sys.argv[1], 'r+b'); f.seek(30000); b = f.read(1); f.seek(30000); f.write(bytes([b[0] ^ 0x40]))", part])
        let actual = try sha256(file: part)

        let staging = temp.file("staging")
        let error = expectArchiveError {
            // libarchive reads ahead while recognising the format, so the damage may be found already here.
            let reader = try BundleArchiveReader(parts: split.parts.map(\.file), expectedParts: split.parts, limits: BundleLimits())
            _ = try reader.readManifest()
            _ = try reader.extract(into: staging, expected: payload.expectedFiles)
        }
        #expect(error.map(BundleErrorParts.init)?.kind == "corruptPart")
        #expect(error.map(BundleErrorParts.init)?.part == part)
        #expect(error.map { "\($0)" } == "part \(part) is corrupt: expected sha256 \(split.parts[1].sha256.hex), got \(actual.hex)")
        #expect(!exists(staging))
        #expect(listing(temp.path) == ["split", "src", "whole"])

        // Without per-part expectations the damage still fails the extraction (here: a file's digest).
        let second = expectArchiveError {
            let unchecked = try BundleArchiveReader(parts: split.parts.map(\.file), expectedParts: nil, limits: BundleLimits())
            _ = try unchecked.extract(into: staging, expected: payload.expectedFiles)
        }
        #expect(["entryDigestMismatch", "unreadableEntry"].contains(second.map(BundleErrorParts.init)?.kind ?? ""), "\(String(describing: second))")
        #expect(!exists(staging))
    }

    @Test func missingLastPartIsNamed() throws {
        let temp = try TemporaryDirectory(prefix: "chartsync-bundle")
        let (payload, _, split) = try splitBundle(temp)
        let last = split.parts[split.parts.count - 1].file
        try FileManager.default.removeItem(atPath: last)

        // The part list names a file that is gone.
        let gone = expectArchiveError {
            _ = try BundleArchiveReader(parts: split.parts.map(\.file), expectedParts: split.parts, limits: BundleLimits())
        }
        #expect(gone.map(BundleErrorParts.init)?.part == last)
        #expect(gone.map { "\($0)" }?.hasPrefix("part \(last) cannot be read: ") == true)

        // The part list leaves it out: the count differs from the expected parts.
        let fewer = Array(split.parts.dropLast())
        let short = expectArchiveError {
            _ = try BundleArchiveReader(parts: fewer.map(\.file), expectedParts: split.parts, limits: BundleLimits())
        }
        #expect(short.map(BundleErrorParts.init)?.kind == "partCountMismatch")
        #expect(short.map { "\($0)" } == "\(temp.file("split/bundle.tar.zst")): expected \(split.parts.count) parts, got \(split.parts.count - 1)")

        // Without expectations, the stream ends inside an entry.
        let reader = try BundleArchiveReader(parts: fewer.map(\.file), expectedParts: nil, limits: BundleLimits())
        let staging = temp.file("staging")
        let ended = expectArchiveError { _ = try reader.extract(into: staging, expected: payload.expectedFiles) }
        let parts = ended.map(BundleErrorParts.init)
        #expect(parts?.kind == "truncatedBundle")
        #expect(parts?.part == fewer.last?.file)
        #expect(parts?.entry == "payload/images/blob.bin" || parts?.entry == nil, "\(String(describing: ended))")
        #expect("\(ended!)".contains("the bundle ends"))
        #expect("\(ended!)".contains(", at the end of part \(fewer.last!.file) (truncated, or a later part missing): "))
        #expect(!exists(staging))
    }

    @Test func truncatedLastPartIsNamed() throws {
        let temp = try TemporaryDirectory(prefix: "chartsync-bundle")
        let (payload, _, split) = try splitBundle(temp)
        let last = split.parts[split.parts.count - 1]
        try runCommand(["truncate", "-s", String(last.size / 2), last.file])

        let error = expectArchiveError {
            _ = try BundleArchiveReader(parts: split.parts.map(\.file), expectedParts: split.parts, limits: BundleLimits())
        }
        #expect(error.map { "\($0)" } == "part \(last.file) is truncated: expected \(last.size) bytes, found \(last.size / 2)")

        let reader = try BundleArchiveReader(parts: split.parts.map(\.file), expectedParts: nil, limits: BundleLimits())
        let staging = temp.file("staging")
        let ended = expectArchiveError { _ = try reader.extract(into: staging, expected: payload.expectedFiles) }
        #expect(ended.map(BundleErrorParts.init)?.kind == "truncatedBundle", "\(String(describing: ended))")
        #expect(ended.map(BundleErrorParts.init)?.part == last.file)
        #expect(!exists(staging))
    }

    @Test func partThatGrewIsCorrupt() throws {
        let temp = try TemporaryDirectory(prefix: "chartsync-bundle")
        let (_, _, split) = try splitBundle(temp)
        let part = split.parts[2]
        try runCommand(["sh", "-c", "printf x >> \"$0\"", part.file])
        let error = expectArchiveError {
            _ = try BundleArchiveReader(parts: split.parts.map(\.file), expectedParts: split.parts, limits: BundleLimits())
        }
        #expect(error.map { "\($0)" } == "part \(part.file) is corrupt: expected \(part.size) bytes, found \(part.size + 1)")
    }

    @Test func swappedPartsAreCorrupt() throws {
        let temp = try TemporaryDirectory(prefix: "chartsync-bundle")
        let (payload, _, split) = try splitBundle(temp)
        var files = split.parts.map(\.file)
        files.swapAt(3, 4)
        let reader = try BundleArchiveReader(parts: files, expectedParts: split.parts, limits: BundleLimits())
        let staging = temp.file("staging")
        let error = expectArchiveError { _ = try reader.extract(into: staging, expected: payload.expectedFiles) }
        #expect(error.map(BundleErrorParts.init)?.kind == "corruptPart")
        #expect(error.map(BundleErrorParts.init)?.part == files[3])
        #expect(!exists(staging))
    }
}
