import ChartSyncArchive
import ChartSyncTestSupport
import Foundation
import Testing

@Suite struct TreeDigestTests {
    init() { _ = utf8Locale }

    /// A small tree with nesting, spaces, non-ASCII names, an empty file and an empty directory.
    func makeTree(_ temp: TemporaryDirectory, _ name: String = "tree") throws -> String {
        try temp.write("\(name)/Chart.yaml", Array("name: x\n".utf8))
        try temp.write("\(name)/values.yaml", [])
        try temp.write("\(name)/templates/with space.yaml", Array("a: 1\n".utf8))
        try temp.write("\(name)/templates/_helpers.tpl", testBytes(count: 100_000))
        try temp.write("\(name)/charts/sub/Chart.yaml", Array("name: sub\n".utf8))
        try temp.write("\(name)/files/caf\u{e9}.txt", Array("café".utf8))
        try FileManager.default.createDirectory(atPath: temp.file("\(name)/empty/deeper"), withIntermediateDirectories: true)
        return temp.file(name)
    }

    @Test func digestIsTheCoreutilsPipeline() throws {
        let temp = try TemporaryDirectory(prefix: "chartsync-tree")
        let tree = try makeTree(temp)
        let (digest, files) = try TreeDigest.compute(directory: tree)
        #expect(digest.hex == (try coreutilsTreeDigest(tree)))
        #expect(files == [
            "Chart.yaml", "charts/sub/Chart.yaml", "files/caf\u{e9}.txt", "templates/_helpers.tpl",
            "templates/with space.yaml", "values.yaml",
        ])
        // The lines hashed are exactly sha256sum's.
        let lines = try runCommand(["sh", "-c", #"cd "$1" && find . -type f | sed 's|^\./||' | LC_ALL=C sort | xargs -d '\n' sha256sum"#, "sh", tree])
        #expect(lines.split(separator: "\n").map { String($0.dropFirst(66)) } == files)
    }

    @Test func emptyDirectoriesDoNotCountButNamesAndBytesDo() throws {
        let temp = try TemporaryDirectory(prefix: "chartsync-tree")
        let tree = try makeTree(temp)
        let base = try TreeDigest.compute(directory: tree).digest
        try FileManager.default.createDirectory(atPath: temp.file("tree/another/empty"), withIntermediateDirectories: true)
        #expect(try TreeDigest.compute(directory: tree).digest == base)

        try temp.write("tree/values.yaml", Array("x".utf8))
        let changed = try TreeDigest.compute(directory: tree).digest
        #expect(changed != base)
        try FileManager.default.moveItem(atPath: temp.file("tree/values.yaml"), toPath: temp.file("tree/values2.yaml"))
        #expect(try TreeDigest.compute(directory: tree).digest != changed)
    }

    @Test func emptyTreeIsTheDigestOfNothing() throws {
        let temp = try TemporaryDirectory(prefix: "chartsync-tree")
        try FileManager.default.createDirectory(atPath: temp.file("empty/sub"), withIntermediateDirectories: true)
        let (digest, files) = try TreeDigest.compute(directory: temp.file("empty"))
        #expect(files.isEmpty)
        #expect(digest.hex == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(digest.hex == (try coreutilsTreeDigest(temp.file("empty"))))
    }

    @Test(arguments: ["file link", "directory link", "dangling link"])
    func symlinkInsideTheTreeIsRefused(_ kind: String) throws {
        let temp = try TemporaryDirectory(prefix: "chartsync-tree")
        let tree = try makeTree(temp)
        try temp.write("outside/secret", Array("secret".utf8))
        let target = switch kind {
        case "file link": temp.file("outside/secret")
        case "directory link": temp.file("outside")
        default: temp.file("nowhere")
        }
        let link = tree + "/templates/link"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
        #expect {
            _ = try TreeDigest.compute(directory: tree)
        } throws: { error in
            guard let error = error as? ArchiveError, case .unsafeTreeEntry(let path, let reason) = error else { return false }
            return path == link && reason == "a symbolic link" && "\(error)" == "\(link): refusing a symbolic link"
        }
    }

    @Test func symlinkAsTheTreeItselfIsRefused() throws {
        let temp = try TemporaryDirectory(prefix: "chartsync-tree")
        let tree = try makeTree(temp)
        try FileManager.default.createSymbolicLink(atPath: temp.file("alias"), withDestinationPath: tree)
        #expect {
            _ = try TreeDigest.compute(directory: temp.file("alias"))
        } throws: { error in
            guard let error = error as? ArchiveError, case .unsafeTreeEntry(let path, _) = error else { return false }
            return path == temp.file("alias")
        }
    }

    @Test func fifoInsideTheTreeIsRefused() throws {
        let temp = try TemporaryDirectory(prefix: "chartsync-tree")
        let tree = try makeTree(temp)
        #expect(mkfifo(tree + "/charts/fifo", 0o644) == 0)
        #expect {
            _ = try TreeDigest.compute(directory: tree)
        } throws: { error in
            guard let error = error as? ArchiveError, case .unsafeTreeEntry(let path, let reason) = error else { return false }
            return path == tree + "/charts/fifo" && reason == "a FIFO"
        }
    }

    @Test(arguments: ["back\\slash", "new\nline"])
    func namesSha256sumWouldEscapeAreRefused(_ name: String) throws {
        let temp = try TemporaryDirectory(prefix: "chartsync-tree")
        let tree = try makeTree(temp)
        try temp.write("tree/templates/" + name, Array("x".utf8))
        #expect {
            _ = try TreeDigest.compute(directory: tree)
        } throws: { error in
            guard let error = error as? ArchiveError, case .unsafeTreeEntry(let path, _) = error else { return false }
            return path == tree + "/templates/" + name
        }
    }

    @Test func missingOrNonDirectoryIsRefused() throws {
        let temp = try TemporaryDirectory(prefix: "chartsync-tree")
        try temp.write("file", [1])
        #expect(throws: ArchiveError.self) { _ = try TreeDigest.compute(directory: temp.file("missing")) }
        #expect(throws: ArchiveError.self) { _ = try TreeDigest.compute(directory: temp.file("file")) }
    }
}
