#ifndef DCDIR_SERVICE_CORE_DC_SET_H_
#define DCDIR_SERVICE_CORE_DC_SET_H_

#include <bit>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace dcdir::core {

// A fixed-size set of DC indices (a bitset sized at construction). Value type, cheap to AND.
class DcSet {
 public:
  DcSet() = default;
  // An empty set able to hold indices [0, size).
  explicit DcSet(size_t size, bool all = false)
      : size_(size), words_((size + 63) / 64, all ? ~uint64_t{0} : 0) {
    if (all && size % 64 != 0) words_.back() &= (uint64_t{1} << (size % 64)) - 1;
  }
  size_t size() const { return size_; }
  bool Contains(size_t i) const { return (words_[i >> 6] >> (i & 63)) & 1; }
  void Insert(size_t i) { words_[i >> 6] |= uint64_t{1} << (i & 63); }
  void Erase(size_t i) { words_[i >> 6] &= ~(uint64_t{1} << (i & 63)); }
  bool Empty() const {
    for (uint64_t w : words_)
      if (w) return false;
    return true;
  }
  // In-place intersection; both sets must have the same size.
  DcSet& operator&=(const DcSet& o) {
    for (size_t k = 0; k < words_.size(); ++k) words_[k] &= o.words_[k];
    return *this;
  }
  DcSet& operator|=(const DcSet& o) {
    for (size_t k = 0; k < words_.size(); ++k) words_[k] |= o.words_[k];
    return *this;
  }
  // True when the intersection with `o` is not empty.
  bool Intersects(const DcSet& o) const {
    for (size_t k = 0; k < words_.size(); ++k)
      if (words_[k] & o.words_[k]) return true;
    return false;
  }
  // Number of DCs in the set.
  size_t Count() const {
    size_t c = 0;
    for (uint64_t w : words_) c += static_cast<size_t>(std::popcount(w));
    return c;
  }
  // Raw 64-bit words (index i is bit i % 64 of word i / 64), for word-wise loops over several
  // sets of the same size without building a temporary set.
  size_t word_count() const { return words_.size(); }
  uint64_t word(size_t k) const { return words_[k]; }
  const uint64_t* words() const { return words_.data(); }
  bool operator==(const DcSet& o) const = default;

 private:
  size_t size_ = 0;
  std::vector<uint64_t> words_;
};

// A read-only view of a DcSet's words, or of the same words kept elsewhere (a tenant's map slot,
// tenant_table.h). Valid while the words live; word_count() must match the sets it meets.
class DcSetView {
 public:
  DcSetView(const uint64_t* words, size_t word_count) : words_(words), word_count_(word_count) {}
  explicit DcSetView(const DcSet& set) : DcSetView(set.words(), set.word_count()) {}
  bool Contains(size_t i) const { return (words_[i >> 6] >> (i & 63)) & 1; }
  size_t word_count() const { return word_count_; }
  uint64_t word(size_t k) const { return words_[k]; }
  // True when the intersection with `o` (of the same size) is not empty.
  bool Intersects(const DcSet& o) const {
    for (size_t k = 0; k < word_count_; ++k)
      if (words_[k] & o.word(k)) return true;
    return false;
  }

 private:
  const uint64_t* words_;
  size_t word_count_;
};

}  // namespace dcdir::core

#endif  // DCDIR_SERVICE_CORE_DC_SET_H_
