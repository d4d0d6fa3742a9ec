import ChartSyncCore
import struct Crypto.SHA256

/// The SHA-256 of a byte stream computed on a thread of its own (a ``BlockRing`` whose thread
/// hashes), so that the thread producing the bytes (a libcurl write callback, the bundle writer
/// reading files) goes on while earlier bytes are hashed.
///
/// `update` copies the bytes into a ring of `blocks` blocks of `blockSize` bytes (at most that
/// much memory in flight) and `fill` lets the producer read straight into them; each full block is
/// first given to `flush` on the caller's thread (e.g. written to a file: one large write instead
/// of many small ones, and the hash is then of exactly the bytes written), then handed to the
/// hashing thread. `update` waits while every block is still being hashed (back-pressure). A
/// stream shorter than one block is hashed on the caller's thread by `finalize`, and no thread is
/// ever started for it.
/// One producer: `update`, `fill`, `reset` and `finalize` are called by one thread at a time.
public final class BackgroundHasher {
    private let state: State
    private let ring: BlockRing

    /// A hasher with a ring of `blocks` blocks (at least 2) of `blockSize` bytes.
    public init(blockSize: Int = 1 << 20, blocks: Int = 4) {
        let state = State()
        self.state = state
        ring = BlockRing(blockSize: blockSize, blocks: blocks) { block in
            state.sha.update(bufferPointer: block)
            return true
        }
    }

    /// Adds `bytes` to the stream, giving every block filled to `flush` before it is hashed; false
    /// when `flush` returned false (the block is then dropped, and the stream should be reset).
    @discardableResult
    public func update(_ bytes: UnsafeRawBufferPointer,
                       flush: (UnsafeRawBufferPointer) -> Bool = { _ in true }) -> Bool {
        ring.append(bytes, flush: flush)
    }

    /// Adds the bytes `produce` puts straight into the block being filled (no copy, unlike
    /// `update`): it gets the block's free space and returns how many bytes it put there, as
    /// read(2) does (0 or -1 are returned as they are, nothing added). A block filled goes to
    /// `flush` and is then hashed. Nil when `flush` returned false (the block is then dropped, and
    /// the stream should be reset).
    public func fill(_ produce: (UnsafeMutableRawBufferPointer) -> Int,
                     flush: (UnsafeRawBufferPointer) -> Bool = { _ in true }) -> Int? {
        ring.fill(produce, flush: flush)
    }

    /// Starts a new stream (the bytes given so far are forgotten).
    public func reset() {
        ring.reset()
        state.sha = SHA256()
    }

    /// The SHA-256 of the bytes given since the start or the last `reset`, after the last block
    /// (not full) went to `flush`; nil when `flush` returned false. The hasher then starts a new
    /// stream.
    public func finalize(flush: (UnsafeRawBufferPointer) -> Bool = { _ in true }) -> Digest? {
        let digest = ring.finish(flush: flush) ? Digest(bytes: state.sha.finalize()) : nil
        state.sha = SHA256()
        return digest
    }

    /// The hash so far: updated on the ring's thread while blocks are in flight, by the producer's
    /// thread only after `finish` or `reset` returned (the ring's mutex orders them).
    private final class State: @unchecked Sendable {
        var sha = SHA256()
    }
}
