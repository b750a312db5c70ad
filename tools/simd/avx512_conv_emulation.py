#!/usr/bin/env python3
"""Pure-Python emulation of the AVX-512 VNNI Conv2D path (Sources/_CNNKernelsAVX512 +
Conv2DPacked.swift packing), checked against the reference convolution and the
scalar MultiplyByQuantizedMultiplier. Run by hand: python3 tools/simd/avx512_conv_emulation.py
(it checks the arithmetic and indexing of the first, one-pixel design, not the compiled
kernel; the compiled kernels themselves run under `make avx512-emu-test`, tools/simd/AVX512Emulation.swift)."""
import random
M32=0xFFFFFFFF
def s32(v): v&=M32; return v-(1<<32) if v>>31 else v
# reference scalar requant
def srdhm(a,b):
    if a==b==-2**31: return 2**31-1
    p=a*b
    return s32((p+(1<<30))>>31)
def rdbpot(x,e):
    mask=s32((1<<e)-1); rem=x&mask if mask>=0 else s32(x&(mask&M32))
    thr=(mask>>1)+(1 if x<0 else 0)
    return s32((x>>e)+(1 if rem>thr else 0))
def mbqm(x,m,s):
    l=max(s,0); r=max(-s,0)
    return rdbpot(srdhm(s32(x<<l),m),r)
# vector-lane emulation (AVX-512 formulas)
def lane(acc,m,s):
    left=max(s,0); right=max(-s,0)
    x=s32(acc<<left)
    # even/odd: mul_epi32 of signed low dwords -> 64-bit product, +2^30, logical >>31, low 32
    p=(x*m + (1<<30)) & 0xFFFFFFFFFFFFFFFF
    h=s32(p>>31)
    if x==-2**31 and m==-2**31: h=2**31-1
    mask=s32((1<<right)-1)
    rem=s32(h & (mask & M32))
    half=mask>>1
    thr=half+(1 if h<0 else 0)
    q=h>>right
    roundup = s32(thr-rem) < 0
    return s32(q+(1 if roundup else 0))
random.seed(1)
for i in range(200000):
    acc=random.choice([random.randint(-2**31,2**31-1), random.randint(-100000,100000), -2**31, 2**31-1])
    m=random.choice([random.randint(2**30,2**31-1), -2**31, random.randint(-2**31,2**31-1)])
    s=random.randint(-31,31) if random.random()<0.5 else random.randint(-12,3)
    a=mbqm(acc,m,s); b=lane(acc,m,s)
    assert a==b,(acc,m,s,a,b)
print("requant lanes OK")

def ref_conv(inp,H,W,C,filt,OC,KH,KW,bias,off,sh,sw,dh,dw,pt,pl,OH,OW):
    out=[]
    for oy in range(OH):
        for ox in range(OW):
            for oc in range(OC):
                acc=0
                for ky in range(KH):
                    iy=oy*sh-pt+ky*dh
                    if iy<0 or iy>=H: continue
                    for kx in range(KW):
                        ix=ox*sw-pl+kx*dw
                        if ix<0 or ix>=W: continue
                        for c in range(C):
                            acc+=filt[((oc*KH+ky)*KW+kx)*C+c]*(inp[(iy*W+ix)*C+c]+off)
                out.append(s32(acc+bias[oc]))
    return out
def emu_avx512(inp,H,W,C,filt,OC,KH,KW,bias,off,sh,sw,dh,dw,pt,pl,OH,OW):
    lanes,gs=16,4
    cg=(C+3)//4; ob=(OC+15)//16
    per=KH*KW*C
    init=[0]*(ob*16)
    for oc in range(OC):
        init[oc]=s32(bias[oc]-(128-off)*sum(filt[oc*per:(oc+1)*per]))
    w=[]
    for blk in range(ob):
        for ky in range(KH):
            for kx in range(KW):
                for g in range(cg):
                    for l in range(16):
                        o=blk*16+l
                        for k in range(4):
                            c=g*4+k
                            w.append(filt[((o*KH+ky)*KW+kx)*C+c] if o<OC and c<C else 0)
    tap=cg*64; bs=KH*KW*tap
    padu=(128-off)&0xFF
    out=[]
    full=C//4
    for oy in range(OH):
        for ox in range(OW):
            res=[0]*OC
            for blk in range(ob):
                acc=init[blk*16:(blk+1)*16]
                for ky in range(KH):
                    iy=oy*sh-pt+ky*dh
                    for kx in range(KW):
                        ix=ox*sw-pl+kx*dw
                        inside=0<=iy<H and 0<=ix<W
                        base=(iy*W+ix)*C if inside else 0
                        for g in range(cg):
                            if not inside: u=[padu]*4
                            elif g<full: u=[(inp[base+4*g+k]&0xFF)^0x80 for k in range(4)]
                            else: u=[((inp[base+4*g+k]&0xFF)^0x80) if 4*g+k<C else 0 for k in range(4)]
                            wp=blk*bs+(ky*KW+kx)*tap+g*64
                            for l in range(16):
                                acc[l]=s32(acc[l]+sum(u[k]*w[wp+l*4+k] for k in range(4)))
                for l in range(16):
                    if blk*16+l<OC: res[blk*16+l]=acc[l]
            out+=res
    return out
for t in range(40):
    H,W=random.randint(1,6),random.randint(1,6); C=random.choice([1,3,4,5,8,17]); OC=random.choice([1,7,16,20,33,70])
    KH,KW=random.randint(1,3),random.randint(1,3); sh,sw=random.randint(1,2),random.randint(1,2); dh,dw=random.randint(1,2),random.randint(1,2)
    pt,pl=random.randint(0,(KH-1)*dh),random.randint(0,(KW-1)*dw)
    OH=max(1,(H+2*pt-((KH-1)*dh+1))//sh+1); OW=max(1,(W+2*pl-((KW-1)*dw+1))//sw+1)
    zp=random.choice([-128,127,0,random.randint(-128,127)]); off=-zp
    inp=[random.randint(-128,127) for _ in range(H*W*C)]
    filt=[random.randint(-128,127) for _ in range(OC*KH*KW*C)]
    bias=[random.randint(-2**20,2**20) for _ in range(OC)]
    a=ref_conv(inp,H,W,C,filt,OC,KH,KW,bias,off,sh,sw,dh,dw,pt,pl,OH,OW)
    b=emu_avx512(inp,H,W,C,filt,OC,KH,KW,bias,off,sh,sw,dh,dw,pt,pl,OH,OW)
    assert a==b,(t,)
print("avx512 conv emulation OK")
