// Stop strings over streamed text: found across piece boundaries, never shown, and nothing
// held back longer than needed.
#include "engine/stop_strings.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace nextn {
namespace {

// Feeds `pieces` one by one and returns what the filter released, in order.
std::string run(StopStringFilter& filter, const std::vector<std::string>& pieces) {
  std::string out;
  for (const auto& piece : pieces) out += filter.push(piece);
  return out + filter.flush();
}

TEST(StopStrings, NoStopStringsPassEverythingThroughAtOnce) {
  StopStringFilter filter({});
  EXPECT_TRUE(filter.empty());
  EXPECT_EQ(filter.push("hello"), "hello");
  EXPECT_EQ(filter.push(" world"), " world");
  EXPECT_EQ(filter.flush(), "");
  EXPECT_FALSE(filter.stopped());
}

TEST(StopStrings, CutBeforeTheStopStringInOnePiece) {
  StopStringFilter filter({"END"});
  EXPECT_EQ(run(filter, {"abc END def"}), "abc ");
  EXPECT_TRUE(filter.stopped());
}

TEST(StopStrings, FoundAcrossPieces) {
  StopStringFilter filter({"</answer>"});
  EXPECT_EQ(filter.push("42</an"), "42");  // "</an" could start the stop string
  EXPECT_EQ(filter.push("sw"), "");
  EXPECT_EQ(filter.push("er> and more"), "");
  EXPECT_TRUE(filter.stopped());
  EXPECT_EQ(filter.push("ignored"), "");
  EXPECT_EQ(filter.flush(), "");
}

TEST(StopStrings, HeldBackTextIsReleasedWhenItCannotMatch) {
  StopStringFilter filter({"\n\nUser:"});
  EXPECT_EQ(filter.push("line\n"), "line");
  EXPECT_EQ(filter.push("\nU"), "");
  EXPECT_EQ(filter.push("h oh"), "\n\nUh oh");
  EXPECT_FALSE(filter.stopped());
  EXPECT_EQ(filter.push("\n"), "");
  EXPECT_EQ(filter.flush(), "\n");  // the end of generation releases the held-back tail
}

TEST(StopStrings, EarliestOfSeveralWins) {
  StopStringFilter filter({"world", "lo w"});
  EXPECT_EQ(run(filter, {"hel", "lo world"}), "hel");
}

TEST(StopStrings, EmptyStopStringsAreIgnored) {
  StopStringFilter filter({"", "x"});
  EXPECT_EQ(run(filter, {"abc"}), "abc");
  EXPECT_FALSE(filter.stopped());
}

TEST(StopStrings, MultiByteCharactersAreNeverSplit) {
  // "é" is C3 A9; a stop string that starts with the same lead byte must not release half.
  StopStringFilter filter({"éclair"});
  std::string out = filter.push("caf\xc3\xa9");
  EXPECT_EQ(out, "caf");  // "é" could start "éclair"
  out += filter.push(" au lait");
  EXPECT_EQ(out + filter.flush(), "caf\xc3\xa9 au lait");
}

TEST(StopStrings, EveryChunkingGivesTheSameResult) {
  const std::string text = "one two STOP three";
  for (size_t cut = 0; cut <= text.size(); ++cut) {
    for (size_t cut2 = cut; cut2 <= text.size(); ++cut2) {
      StopStringFilter filter({"STOP", "two S"});
      EXPECT_EQ(run(filter, {text.substr(0, cut), text.substr(cut, cut2 - cut), text.substr(cut2)}),
                "one ")
          << cut << " " << cut2;
    }
  }
}

}  // namespace
}  // namespace nextn
