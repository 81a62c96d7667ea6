#ifndef DCDIR_SERVICE_API_ARENA_ALLOCATOR_H_
#define DCDIR_SERVICE_API_ARENA_ALLOCATOR_H_

// The request and response of a unary callback method on one protobuf arena per call: the
// answer's sub-messages and strings are bump-allocated and freed all at once when gRPC is done
// with the call, instead of one malloc/free each.

#include "google/protobuf/arena.h"
#include "grpcpp/support/message_allocator.h"

namespace dcdir::api {

template <typename Request, typename Response>
class ArenaMessageAllocator final : public grpc::MessageAllocator<Request, Response> {
 public:
  grpc::MessageHolder<Request, Response>* AllocateMessages() override { return new Holder(); }

 private:
  class Holder final : public grpc::MessageHolder<Request, Response> {
   public:
    Holder() : arena_(Options()) {
      this->set_request(google::protobuf::Arena::CreateMessage<Request>(&arena_));
      this->set_response(google::protobuf::Arena::CreateMessage<Response>(&arena_));
    }
    void Release() override { delete this; }

   private:
    static google::protobuf::ArenaOptions Options() {
      google::protobuf::ArenaOptions options;
      options.start_block_size = 4096;  // a whole answer fits in the first block
      return options;
    }
    google::protobuf::Arena arena_;
  };
};

}  // namespace dcdir::api

#endif  // DCDIR_SERVICE_API_ARENA_ALLOCATOR_H_
