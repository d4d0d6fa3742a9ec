import Glibc

/// A mutex with one condition variable: state shared by a producer and its workers, each waiting
/// for the others' changes. ``withLock(_:)`` runs a body holding the mutex; inside it, ``wait()``
/// lets the mutex go until a ``broadcast()`` (spurious wake-ups included: wait in a loop).
public final class ConditionLock: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    /// Creates an unlocked lock.
    public init() {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    /// `body`, holding the mutex.
    public func withLock<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }

    /// Inside ``withLock(_:)`` only: releases the mutex until a broadcast, then takes it again.
    public func wait() {
        pthread_cond_wait(condition, mutex)
    }

    /// Wakes every thread waiting (call it holding the mutex, after a change).
    public func broadcast() {
        pthread_cond_broadcast(condition)
    }
}
