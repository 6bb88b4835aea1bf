/*
 * experiment_report.c -- what a finished run reports beyond its three
 * figures: peak memory, the whole memory bill per device (chapter 07), and
 * the JSON summary.
 */
#include "experiment.h"

#include <math.h>

#include "clock.h"
#include "json.h"

size_t pl_experiment_peak_bytes(const pl_experiment *x)
{
    size_t peak = 0;
    for (int d = 0; d < x->result.trace.devices; d++)
        if (x->result.trace.lanes[d].peak_bytes > peak)
            peak = x->result.trace.lanes[d].peak_bytes;
    return peak;
}

pl_memory_bill pl_experiment_memory(const pl_experiment *x, int d)
{
    pl_memory_bill b = pl_job_static_memory(&x->job, d);
    b.activations = x->result.trace.lanes[d].peak_held_activations;
    b.messages = x->result.trace.lanes[d].peak_held_in_transit;
    return b;
}

size_t pl_experiment_peak_memory(const pl_experiment *x)
{
    size_t peak = 0;
    for (int d = 0; d < x->result.trace.devices; d++) {
        pl_memory_bill b = pl_experiment_memory(x, d);
        if (pl_memory_total(&b) > peak)
            peak = pl_memory_total(&b);
    }
    return peak;
}

/* How the run ends its steps and what its costs were (chapter 06). */
static void json_step_end(const pl_experiment *x, FILE *out)
{
    const pl_options *o = &x->opt;
    int clipped = 0;
    for (int k = 0; x->clips && k < o->steps; k++)
        clipped += x->clips[k];
    fprintf(out, ",\"step_sync\":\"%s\",\"clip_grad_norm\":",
            o->step_sync == PL_SYNC_LOCAL ? "local" : "global");
    pl_json_number(o->clip_norm > 0 ? o->clip_norm : NAN, out);
    fprintf(out, ",\"post_validation\":%s,\"clipped_steps\":",
            o->post_validation ? "true" : "false");
    if (o->clip_norm > 0)
        fprintf(out, "%d", clipped);
    else
        fputs("null", out);
    if (o->cost == PL_COST_UNIFORM)
        fprintf(out, ",\"costs\":[%.9g,%.9g,%.9g]", o->t_f, o->t_i, o->t_w);
    else
        fputs(",\"costs\":null", out);
}

// [region json]
void pl_experiment_json(const pl_experiment *x, FILE *out)
{
    const pl_trace *t = &x->result.trace;
    fputs("{\"schedule\":", out);
    pl_json_string(x->name, out);
    fprintf(out, ",\"devices\":%d,\"microbatches\":%d,\"chunks\":%d,\"placement\":\"%s\","
            "\"clock\":\"%s\",\"executor\":\"%s\",\"steps\":%d,\"step\":%d,"
            "\"cost_unit_ns\":%.9g,\"makespan_ns\":", x->schedule.devices,
            x->schedule.microbatches, x->schedule.chunks,
            pl_route_placement_name(x->schedule.placement), pl_clock_name(x->opt.clock),
            t->info.executor, x->opt.steps, x->step,
            x->opt.cost == PL_COST_UNIFORM ? (double)PL_COST_UNIT : NAN);
    pl_json_number(x->makespan_ns, out);
    fputs(",\"bubble\":", out);
    pl_json_number(x->bubble, out);
    fputs(",\"makespan_predicted_ns\":", out);
    pl_json_number(x->predicted_makespan_ns, out);
    fputs(",\"bubble_predicted\":", out);
    pl_json_number(x->predicted_bubble, out);
    fputs(",\"bubble_theory\":", out);
    pl_json_number(x->bubble_theory >= 0 ? x->bubble_theory : NAN, out);
    fputs(",\"theory_note\":", out);
    if (x->theory_note[0])
        pl_json_string(x->theory_note, out);
    else
        fputs("null", out);
    fputs(",\"period_ns\":", out);
    pl_json_number(x->period_ns >= 0 ? x->period_ns : NAN, out);
    fputs(",\"period_bubble\":", out);
    pl_json_number(x->period_ns >= 0 ? x->period_bubble : NAN, out);
    fputs(",\"period_predicted_ns\":", out);
    pl_json_number(x->predicted_period_ns >= 0 ? x->predicted_period_ns : NAN, out);
    fputs(",\"period_bubble_predicted\":", out);
    pl_json_number(x->predicted_period_ns >= 0 ? x->predicted_period_bubble : NAN, out);
    json_step_end(x, out);
    fprintf(out, ",\"messages\":%ld,\"peak_inflight\":[", pl_trace_messages(t, x->step));
    for (int d = 0; d < t->devices; d++)
        fprintf(out, "%s%d", d ? "," : "", t->lanes[d].peak_inflight);
    fputs("],\"peak_activation_bytes\":[", out);
    for (int d = 0; d < t->devices; d++)
        fprintf(out, "%s%zu", d ? "," : "", t->lanes[d].peak_bytes);
    fputs("],\"bytes_sent\":[", out);
    for (int d = 0; d < t->devices; d++)
        fprintf(out, "%s%lld", d ? "," : "", (long long)pl_trace_bytes_sent(t, d, x->step));
    fputs("],\"memory\":[", out);
    for (int d = 0; d < t->devices; d++) {
        pl_memory_bill b = pl_experiment_memory(x, d);
        fprintf(out, "%s{\"parameters\":%zu,\"gradients\":%zu,\"optimizer\":%zu,"
                "\"activations\":%zu,\"messages\":%zu,\"total\":%zu}", d ? "," : "", b.params,
                b.grads, b.optimizer, b.activations, b.messages, pl_memory_total(&b));
    }
    fputs("],\"partition\":[", out);
    for (int st = 0; st < x->partition.stages; st++)
        fprintf(out, "%s%d", st ? "," : "", x->partition.count[st]);
    fputs("],\"link_latency_ms\":", out);
    pl_json_number(x->opt.link_latency_ms, out);
    fputs(",\"link_bandwidth\":", out);
    pl_json_number(x->opt.link_bandwidth > 0 ? x->opt.link_bandwidth : NAN, out);
    fprintf(out, ",\"blocking_send\":%s,\"warmup_extra\":%d",
            x->opt.blocking_send ? "true" : "false", x->warmup_extra);
    fputs(",\"loss\":", out);
    if (x->result.loss) {
        for (int k = 0; k < x->result.steps; k++) {
            fputs(k ? "," : "[", out);
            pl_json_number((double)x->result.loss[k], out);
        }
        fputc(']', out);
    } else {
        fputs("null", out);
    }
    if (x->opt.verify && !x->opt.simulate) {
        fprintf(out, ",\"bitwise_equal\":%s,\"max_abs_diff\":",
                x->bitwise_equal ? "true" : "false");
        pl_json_number(x->max_abs_diff, out);
    }
    if (x->threads_checked)
        fprintf(out, ",\"threads_equal\":%s", x->threads_equal ? "true" : "false");
    fputs("}\n", out);
}
// [endregion json]
