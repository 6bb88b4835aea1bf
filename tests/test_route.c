/*
 * test_route.c -- placements and routing: which device holds a stage, and
 * who sends what to whom, for the loop and the V placement.
 */
#include <criterion/criterion.h>

#include "route.h"

Test(route, one_chunk_is_stage_s_on_device_s)
{
    for (int p = 1; p <= 8; p++)
        for (int d = 0; d < p; d++) {
            cr_expect_eq(pl_route_stage(PL_PLACE_LOOP, p, d, 0), d);
            cr_expect_eq(pl_route_stage(PL_PLACE_V, p, d, 0), d);
        }
}

Test(route, loop_placement_is_chunk_times_p_plus_device)
{
    cr_expect_eq(pl_route_stage(PL_PLACE_LOOP, 4, 1, 0), 1);
    cr_expect_eq(pl_route_stage(PL_PLACE_LOOP, 4, 1, 1), 5);
    cr_expect_eq(pl_route_stage(PL_PLACE_LOOP, 4, 3, 2), 11);
}

Test(route, v_placement_puts_stage_d_and_2p_minus_1_minus_d_on_device_d)
{
    for (int p = 1; p <= 8; p++)
        for (int d = 0; d < p; d++) {
            cr_expect_eq(pl_route_stage(PL_PLACE_V, p, d, 1), 2 * p - 1 - d);
            cr_expect_eq(pl_route_stage(PL_PLACE_V, p, d, 2), 2 * p + d, "a third chunk goes down again");
        }
}

Test(route, home_inverts_stage_for_every_placement)
{
    for (int pl = PL_PLACE_LOOP; pl <= PL_PLACE_V; pl++)
        for (int p = 1; p <= 6; p++)
            for (int v = 1; v <= 4; v++)
                for (int d = 0; d < p; d++)
                    for (int c = 0; c < v; c++) {
                        int dev, chunk, s = pl_route_stage((pl_placement)pl, p, d, c);
                        cr_assert(s >= 0 && s < p * v);
                        pl_route_home((pl_placement)pl, p, s, &dev, &chunk);
                        cr_expect(dev == d && chunk == c, "placement %d p=%d d%d c%d", pl, p, d, c);
                    }
}

Test(route, inputs_and_outputs_name_the_same_message)
{
    for (int pl = PL_PLACE_LOOP; pl <= PL_PLACE_V; pl++)
        for (int p = 1; p <= 5; p++)
            for (int v = 1; v <= 3; v++)
                for (int d = 0; d < p; d++)
                    for (int c = 0; c < v; c++)
                        for (int k = PL_F; k <= PL_W; k++) {
                            pl_action a = {(pl_kind)k, 3, c};
                            pl_route out, in = {PL_ACTIVATION, -1, -1, -1, -1};
                            if (!pl_route_output((pl_placement)pl, p, v, d, a, &out))
                                continue;
                            /* the receiver's action: F for an activation, I for a gradient */
                            pl_action r = {out.flow == PL_ACTIVATION ? PL_F : PL_I, 3, out.chunk};
                            cr_assert(pl_route_input((pl_placement)pl, p, v, out.peer, r, &in));
                            cr_expect(in.peer == d && in.peer_chunk == c && in.flow == out.flow &&
                                      in.stage == out.stage && in.chunk == out.chunk,
                                      "placement %d p=%d v=%d d%d c%d kind %d", pl, p, v, d, c, k);
                        }
}

Test(route, who_talks_to_whom)
{
    pl_route r;
    pl_action f = {PL_F, 2, 0}, b = {PL_B, 5, 0}, w = {PL_W, 5, 0};
    cr_expect_eq(pl_route_input(PL_PLACE_LOOP, 4, 1, 0, f, &r), 0, "stage 0 reads the data");
    cr_expect_eq(pl_route_input(PL_PLACE_LOOP, 4, 1, 2, f, &r), 1);
    cr_expect(r.peer == 1 && r.flow == PL_ACTIVATION && r.stage == 2);
    cr_expect_eq(pl_route_input(PL_PLACE_LOOP, 4, 1, 3, b, &r), 0, "the last stage has the loss");
    cr_expect_eq(pl_route_input(PL_PLACE_LOOP, 4, 1, 1, b, &r), 1);
    cr_expect(r.peer == 2 && r.flow == PL_GRADIENT && r.stage == 1);
    cr_expect_eq(pl_route_input(PL_PLACE_LOOP, 4, 1, 1, w, &r), 0, "W needs no message");
    cr_expect_eq(pl_route_output(PL_PLACE_LOOP, 4, 1, 2, w, &r), 0, "W sends none");
    /* loop, two chunks on two devices: stages d0c0=0, d1c0=1, d0c1=2, d1c1=3 */
    cr_expect_eq(pl_route_output(PL_PLACE_LOOP, 2, 2, 1, (pl_action){PL_F, 0, 0}, &r), 1);
    cr_expect(r.peer == 0 && r.chunk == 1 && r.stage == 2);
    /* V, two devices: d0 holds 0 and 3, d1 holds 1 and 2; stage 1 -> 2 stays on d1 */
    cr_expect_eq(pl_route_output(PL_PLACE_V, 2, 2, 1, (pl_action){PL_F, 0, 0}, &r), 1);
    cr_expect(r.peer == 1 && r.chunk == 1 && r.stage == 2);
    cr_expect_eq(pl_route_output(PL_PLACE_V, 2, 2, 0, (pl_action){PL_I, 0, 1}, &r), 1);
    cr_expect(r.peer == 1 && r.chunk == 1 && r.stage == 2 && r.flow == PL_GRADIENT);
}

Test(route, placement_names)
{
    pl_placement pl;
    cr_expect_str_eq(pl_route_placement_name(PL_PLACE_LOOP), "loop");
    cr_expect_str_eq(pl_route_placement_name(PL_PLACE_V), "v");
    cr_expect_eq(pl_route_placement_parse("v", &pl), 0);
    cr_expect_eq(pl, PL_PLACE_V);
    cr_expect_eq(pl_route_placement_parse("zigzag", &pl), -1);
}
