// libsrtp3 API on top of Debian's libsrtp2 (2.5.x), for the mediasoup worker.
//
// mediasoup >= 3.15 is written against libsrtp3, which mediasoup builds from a
// GitHub wrap. We build against the system libsrtp2 instead (see
// native/README.md). The two libraries share the policy/session/event API the
// worker uses; what differs, and what this header provides:
//
//   - srtp_protect / srtp_unprotect / srtp_protect_rtcp / srtp_unprotect_rtcp
//     are out-of-place in libsrtp3 (const input, separate output buffer with
//     its capacity passed in *out_len, size_t lengths, explicit MKI index) and
//     in-place in libsrtp2 (one buffer, int* length). The overloads below copy
//     the input into the output buffer after checking that it can hold the
//     result (input + the largest trailer libsrtp may append), then run
//     libsrtp2 in place on the output buffer.
//   - srtp_stream_remove (libsrtp3) is srtp_remove_stream in libsrtp2.
//   - srtp_err_status_buffer_small and srtp_err_status_cryptex_err only exist
//     in libsrtp3; libsrtp2 never returns them. They get libsrtp3's values.
//
// C++ only: the overloads rely on C++ overloading next to libsrtp2's
// extern "C" declarations (only those have C linkage, which is allowed).
#ifndef SHOWCASE_SRTP3_COMPAT_H
#define SHOWCASE_SRTP3_COMPAT_H

#ifndef __cplusplus
#error "srtp3-compat.h is a C++ header (it overloads libsrtp2's functions)"
#endif

#include <srtp2/srtp.h>

#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

// libsrtp3 appends them after srtp_err_status_pkt_idx_adv (27).
static_assert(srtp_err_status_pkt_idx_adv == 27, "unexpected libsrtp2 srtp_err_status_t layout");
constexpr srtp_err_status_t srtp_err_status_buffer_small = static_cast<srtp_err_status_t>(28);
constexpr srtp_err_status_t srtp_err_status_cryptex_err  = static_cast<srtp_err_status_t>(29);

// libsrtp2 writes up to SRTP_MAX_TRAILER_LEN + 4 (the SRTCP index) after RTCP.
constexpr size_t SHOWCASE_SRTCP_MAX_TRAILER_LEN = SRTP_MAX_TRAILER_LEN + 4;

namespace showcase_srtp3_compat
{
	// Copies `in` (in_len bytes) into `out` whose capacity is *out_len, leaving
	// room for `trailer` more bytes, and returns the length as libsrtp2's int.
	inline srtp_err_status_t Prepare(
	  const uint8_t* in, size_t in_len, uint8_t* out, const size_t* out_len, size_t trailer, int* len)
	{
		if (in == nullptr || out == nullptr || out_len == nullptr)
			return srtp_err_status_bad_param;
		// libsrtp2 works on int lengths; keep headroom for the trailer it adds.
		if (in_len > static_cast<size_t>(INT_MAX) - trailer)
			return srtp_err_status_bad_param;
		if (*out_len < in_len + trailer)
			return srtp_err_status_buffer_small;
		if (out != in)
			std::memmove(out, in, in_len);
		*len = static_cast<int>(in_len);

		return srtp_err_status_ok;
	}

	inline srtp_err_status_t Finish(srtp_err_status_t err, int len, size_t* out_len)
	{
		if (err == srtp_err_status_ok)
			*out_len = static_cast<size_t>(len);

		return err;
	}
} // namespace showcase_srtp3_compat

// Sender side: the result (rtp_len + tag [+ MKI]) is written to srtp, whose
// capacity is *srtp_len on input and the SRTP length on success.
inline srtp_err_status_t srtp_protect(
  srtp_t ctx, const uint8_t* rtp, size_t rtp_len, uint8_t* srtp, size_t* srtp_len, size_t mki_index)
{
	int len{ 0 };
	srtp_err_status_t err = showcase_srtp3_compat::Prepare(
	  rtp, rtp_len, srtp, srtp_len, SRTP_MAX_TRAILER_LEN, std::addressof(len));

	if (err != srtp_err_status_ok)
		return err;
	// libsrtp3's mki_index is only meaningful when the policy uses MKI; the
	// worker never does and always passes 0.
	if (mki_index != 0)
		err = srtp_protect_mki(ctx, srtp, &len, 1, static_cast<unsigned int>(mki_index));
	else
		err = srtp_protect(ctx, static_cast<void*>(srtp), &len);

	return showcase_srtp3_compat::Finish(err, len, srtp_len);
}

inline srtp_err_status_t srtp_protect_rtcp(
  srtp_t ctx, const uint8_t* rtcp, size_t rtcp_len, uint8_t* srtcp, size_t* srtcp_len, size_t mki_index)
{
	int len{ 0 };
	srtp_err_status_t err = showcase_srtp3_compat::Prepare(
	  rtcp, rtcp_len, srtcp, srtcp_len, SHOWCASE_SRTCP_MAX_TRAILER_LEN, std::addressof(len));

	if (err != srtp_err_status_ok)
		return err;
	if (mki_index != 0)
		err = srtp_protect_rtcp_mki(ctx, srtcp, &len, 1, static_cast<unsigned int>(mki_index));
	else
		err = srtp_protect_rtcp(ctx, static_cast<void*>(srtcp), &len);

	return showcase_srtp3_compat::Finish(err, len, srtcp_len);
}

// Receiver side: the output only shrinks, so it must hold srtp_len bytes.
inline srtp_err_status_t srtp_unprotect(
  srtp_t ctx, const uint8_t* srtp, size_t srtp_len, uint8_t* rtp, size_t* rtp_len)
{
	int len{ 0 };
	srtp_err_status_t err =
	  showcase_srtp3_compat::Prepare(srtp, srtp_len, rtp, rtp_len, 0, std::addressof(len));

	if (err != srtp_err_status_ok)
		return err;
	err = srtp_unprotect(ctx, static_cast<void*>(rtp), &len);

	return showcase_srtp3_compat::Finish(err, len, rtp_len);
}

inline srtp_err_status_t srtp_unprotect_rtcp(
  srtp_t ctx, const uint8_t* srtcp, size_t srtcp_len, uint8_t* rtcp, size_t* rtcp_len)
{
	int len{ 0 };
	srtp_err_status_t err =
	  showcase_srtp3_compat::Prepare(srtcp, srtcp_len, rtcp, rtcp_len, 0, std::addressof(len));

	if (err != srtp_err_status_ok)
		return err;
	err = srtp_unprotect_rtcp(ctx, static_cast<void*>(rtcp), &len);

	return showcase_srtp3_compat::Finish(err, len, rtcp_len);
}

// Renamed in libsrtp3; `ssrc` is in network byte order in both.
inline srtp_err_status_t srtp_stream_remove(srtp_t session, uint32_t ssrc)
{
	return srtp_remove_stream(session, ssrc);
}

#endif // SHOWCASE_SRTP3_COMPAT_H
