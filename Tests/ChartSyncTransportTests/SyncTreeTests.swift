import ChartSyncBasics
import ChartSyncTestSupport
import Foundation
import Glibc
import Testing

/// DirectoryFD.syncTree flushes a written tree in one pass: every file and directory, nothing
/// through a symlink, and names what it could not flush.
@Suite struct SyncTreeTests {
    @Test func everyFileAndDirectoryIsFlushedAndLinksAreNotFollowed() throws {
        let temp = try TemporaryDirectory(prefix: "chartsync-sync")
        try temp.write("tree/a/b/file", testBytes(count: 10_000))
        try temp.write("tree/top", [1, 2, 3])
        try temp.write("tree/empty/.keep", [])
        try FileManager.default.createSymbolicLink(atPath: temp.file("tree/a/dangling"), withDestinationPath: "/nonexistent/x")
        try FileManager.default.createSymbolicLink(atPath: temp.file("tree/outside"), withDestinationPath: "/")
        #expect(mkfifo(temp.file("tree/a/fifo"), 0o600) == 0)
        let root = DirectoryFD.openDirectory(path: temp.file("tree"))
        #expect(root >= 0)
        defer { close(root) }
        // Opening the FIFO would block; the symlinks would lead elsewhere: none of them is opened.
        #expect(DirectoryFD.syncTree(root) == nil)
    }

    @Test func whatCannotBeFlushedIsNamed() throws {
        let temp = try TemporaryDirectory(prefix: "chartsync-sync")
        let closed = DirectoryFD.openDirectory(path: temp.path)
        close(closed)
        let failure = DirectoryFD.syncTree(closed)
        #expect(failure?.path == "" && failure?.error.code == EBADF)
    }
}
