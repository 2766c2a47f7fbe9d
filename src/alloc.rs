//! The binary's global allocator: mimalloc for everyday allocations, the kernel directly
//! for huge ones.
//!
//! The build allocates and frees many short strings on every worker thread, which
//! mimalloc's per-thread free lists serve faster than glibc's arenas. But a huge buffer
//! (one very long document's text or token ids, a Parquet page of it) is often made on a
//! worker thread and freed on another; mimalloc then keeps its pages until the owning
//! worker allocates again, which an idle worker may not do for seconds. Mapped and
//! unmapped on their own, huge buffers leave memory the moment they are freed, and grow
//! by remapping instead of copying.

use std::alloc::{GlobalAlloc, Layout};

/// Allocations of this size or more are mapped on their own (Linux): in practice only
/// the buffers of a document of tens of megabytes. At 4 MiB the batch buffers of an
/// ordinary build crossed it too, and their fresh pages cost ~0.6 s of page faults over
/// the whole benchmark corpus.
pub const HUGE: usize = 32 << 20;

/// The allocator `quire` installs with `#[global_allocator]`.
pub struct Allocator;

#[cfg(target_os = "linux")]
mod huge {
    use super::HUGE;
    use std::alloc::Layout;

    /// Pages are 4 KiB or more; a mapping is aligned to a page.
    const MAP_ALIGN: usize = 4096;

    pub fn is_huge(size: usize, align: usize) -> bool {
        size >= HUGE && align <= MAP_ALIGN
    }

    /// A fresh zeroed mapping of `layout.size()` bytes, or null.
    pub unsafe fn map(layout: Layout) -> *mut u8 {
        // SAFETY: an anonymous private mapping has no preconditions.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                layout.size(),
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            std::ptr::null_mut()
        } else {
            p.cast()
        }
    }

    /// Unmap what [`map`] or [`remap`] gave for `size` bytes.
    pub unsafe fn unmap(ptr: *mut u8, size: usize) {
        // SAFETY: the caller passes a mapping of `size` bytes made here. Failure would only
        // leak the mapping, and a deallocation has no way to report it.
        unsafe { libc::munmap(ptr.cast(), size) };
    }

    /// Resize a mapping, moving it if needed (the kernel moves pages, not bytes), or null.
    pub unsafe fn remap(ptr: *mut u8, old: usize, new: usize) -> *mut u8 {
        // SAFETY: the caller passes a mapping of `old` bytes made here.
        let p = unsafe { libc::mremap(ptr.cast(), old, new, libc::MREMAP_MAYMOVE) };
        if p == libc::MAP_FAILED {
            std::ptr::null_mut()
        } else {
            p.cast()
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod huge {
    use std::alloc::Layout;
    pub fn is_huge(_size: usize, _align: usize) -> bool {
        false
    }
    pub unsafe fn map(_layout: Layout) -> *mut u8 {
        std::ptr::null_mut()
    }
    pub unsafe fn unmap(_ptr: *mut u8, _size: usize) {}
    pub unsafe fn remap(_ptr: *mut u8, _old: usize, _new: usize) -> *mut u8 {
        std::ptr::null_mut()
    }
}

/// mimalloc's `mi_option_purge_delay` (its index in `mi_option_t`, the same in mimalloc 2
/// and 3, which `libmimalloc-sys` does not name).
const MI_OPTION_PURGE_DELAY: std::ffi::c_int = 15;

extern "C" {
    fn mi_option_set(option: std::ffi::c_int, value: std::ffi::c_long);
}

impl Allocator {
    /// Keep freed memory for reuse instead of returning it to the kernel a second after
    /// it is freed (mimalloc's default). A build frees and reallocates hundreds of
    /// megabytes between passes; each purge cost a page fault and a zeroed page when the
    /// memory was used again (~0.25 s of kernel time, 520 MB purged, over the benchmark
    /// corpus), and peak memory is unchanged: what is kept is reused. Huge buffers are
    /// still unmapped when freed. `MIMALLOC_PURGE_DELAY` in the environment overrides this.
    pub fn keep_freed_memory() {
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
            // SAFETY: setting a mimalloc option has no preconditions; -1 means never purge.
            unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
        }
    }

    /// Fault memory in 4 KiB pages rather than 2 MiB transparent huge pages, for the
    /// whole process (`prctl(PR_SET_THP_DISABLE)`, which also covers what mimalloc has
    /// already asked huge pages for). On the virtual machines we measure on, a huge
    /// page the host has taken back costs ~3.5 ms per MB to fault in again against
    /// ~0.65 ms for small pages, and much of what a build touches is touched once (the
    /// tokenizer's and language model's tables while they are built, batch buffers). A
    /// 16 MB build after a pause: 0.97 → 0.29 s system time, 2.01 → 1.83 s wall; run
    /// back to back, 1.95 → 1.89 s. The whole corpus gains in kernel time what it loses
    /// in user time (more TLB misses), and peaks ~20 MB lower. `MIMALLOC_ALLOW_THP` in
    /// the environment leaves the choice to mimalloc.
    pub fn small_pages() {
        #[cfg(target_os = "linux")]
        if std::env::var_os("MIMALLOC_ALLOW_THP").is_none() {
            // SAFETY: PR_SET_THP_DISABLE takes plain integers and touches no memory.
            // Failure (an old kernel) leaves huge pages on, which is only slower.
            unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) };
        }
    }
}

// SAFETY: every block is freed by the allocator that made it: which one is decided by the
// size and alignment alone, and `dealloc`/`realloc` are given the layout it was made with.
unsafe impl GlobalAlloc for Allocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if huge::is_huge(layout.size(), layout.align()) {
            // SAFETY: see `huge::map`.
            unsafe { huge::map(layout) }
        } else {
            // SAFETY: forwarded with the caller's guarantees.
            unsafe { mimalloc::MiMalloc.alloc(layout) }
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if huge::is_huge(layout.size(), layout.align()) {
            // SAFETY: fresh anonymous mappings are zeroed by the kernel.
            unsafe { huge::map(layout) }
        } else {
            // SAFETY: forwarded with the caller's guarantees.
            unsafe { mimalloc::MiMalloc.alloc_zeroed(layout) }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if huge::is_huge(layout.size(), layout.align()) {
            // SAFETY: a huge layout was mapped by `alloc` or `realloc`.
            unsafe { huge::unmap(ptr, layout.size()) }
        } else {
            // SAFETY: forwarded with the caller's guarantees.
            unsafe { mimalloc::MiMalloc.dealloc(ptr, layout) }
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let was = huge::is_huge(layout.size(), layout.align());
        let will = huge::is_huge(new_size, layout.align());
        match (was, will) {
            // SAFETY (both arms): the block was made by the allocator forwarded to.
            (true, true) => unsafe { huge::remap(ptr, layout.size(), new_size) },
            (false, false) => unsafe { mimalloc::MiMalloc.realloc(ptr, layout, new_size) },
            _ => {
                // Crossing the threshold: a new block from the other allocator.
                // SAFETY: `new_size` is non-zero and, rounded to the alignment, does not
                // overflow (`realloc`'s contract).
                let new_layout =
                    unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
                // SAFETY: as for `alloc`.
                let new = unsafe { self.alloc(new_layout) };
                if !new.is_null() {
                    // SAFETY: both blocks hold at least the bytes copied and are distinct.
                    unsafe {
                        std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                        self.dealloc(ptr, layout);
                    }
                }
                new
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fill `n` bytes at `p` with a pattern that depends on the offset.
    unsafe fn fill(p: *mut u8, n: usize) {
        for i in (0..n).step_by(step(n)) {
            unsafe { *p.add(i) = (i % 251) as u8 };
        }
    }

    /// Every byte of a small block, a sample of a huge one.
    fn step(n: usize) -> usize {
        if n < HUGE {
            1
        } else {
            4093
        }
    }

    unsafe fn check(p: *const u8, n: usize) {
        for i in (0..n).step_by(step(n)) {
            assert_eq!(unsafe { *p.add(i) }, (i % 251) as u8, "byte {i}");
        }
    }

    extern "C" {
        fn mi_option_get(option: std::ffi::c_int) -> std::ffi::c_long;
    }

    #[test]
    fn freed_memory_is_kept() {
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
            return;
        }
        // SAFETY: reading a mimalloc option has no preconditions.
        let purge_delay = || unsafe { mi_option_get(MI_OPTION_PURGE_DELAY) };
        // mimalloc's own default (1000 ms) first: the option index is the purge delay's.
        assert_eq!(purge_delay(), 1000);
        Allocator::keep_freed_memory();
        assert_eq!(purge_delay(), -1);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn huge_pages_are_off_for_the_process() {
        if std::env::var_os("MIMALLOC_ALLOW_THP").is_some() {
            return;
        }
        Allocator::small_pages();
        // SAFETY: PR_GET_THP_DISABLE takes plain integers and touches no memory.
        assert_eq!(
            unsafe { libc::prctl(libc::PR_GET_THP_DISABLE, 0, 0, 0, 0) },
            1
        );
    }

    #[test]
    fn blocks_keep_their_bytes_across_every_kind_of_resize() {
        let a = Allocator;
        let small = 1000;
        let big = HUGE + 12_345;
        let bigger = 3 * HUGE + 1;
        unsafe {
            let l = Layout::from_size_align(small, 8).unwrap();
            let p = a.alloc(l);
            assert!(!p.is_null());
            fill(p, small);
            // small → huge: moved to a mapping, bytes kept.
            let p = a.realloc(p, l, big);
            assert!(!p.is_null());
            check(p, small);
            fill(p, big);
            // huge → huger: remapped.
            let l = Layout::from_size_align(big, 8).unwrap();
            let p = a.realloc(p, l, bigger);
            assert!(!p.is_null());
            check(p, big);
            // huge → small: back to mimalloc, the first bytes kept.
            let l = Layout::from_size_align(bigger, 8).unwrap();
            let p = a.realloc(p, l, small);
            assert!(!p.is_null());
            check(p, small);
            a.dealloc(p, Layout::from_size_align(small, 8).unwrap());
        }
    }

    #[test]
    fn huge_zeroed_blocks_are_zero_and_alignment_is_kept() {
        let a = Allocator;
        unsafe {
            let l = Layout::from_size_align(HUGE, 64).unwrap();
            let p = a.alloc_zeroed(l);
            assert!(!p.is_null());
            assert_eq!(p as usize % 64, 0);
            assert!((0..HUGE).step_by(997).all(|i| *p.add(i) == 0));
            a.dealloc(p, l);
            // An alignment above a page goes to mimalloc, which honours it.
            let l = Layout::from_size_align(HUGE, 1 << 16).unwrap();
            let p = a.alloc(l);
            assert!(!p.is_null());
            assert_eq!(p as usize % (1 << 16), 0);
            a.dealloc(p, l);
        }
    }

    #[test]
    fn vectors_grow_through_the_threshold() {
        // The path every growing buffer takes, through `Vec`'s own calls.
        let a = Allocator;
        unsafe {
            let l = Layout::array::<u32>(1024).unwrap();
            let mut p = a.alloc(l).cast::<u32>();
            let mut cap = 1024usize;
            let mut len = 0usize;
            while cap * 4 < 2 * HUGE {
                for i in len..cap {
                    *p.add(i) = i as u32;
                }
                len = cap;
                let old = Layout::array::<u32>(cap).unwrap();
                cap *= 2;
                p = a.realloc(p.cast(), old, cap * 4).cast();
                assert!(!p.is_null());
            }
            assert!((0..len).step_by(1001).all(|i| *p.add(i) == i as u32));
            a.dealloc(p.cast(), Layout::array::<u32>(cap).unwrap());
        }
    }
}
